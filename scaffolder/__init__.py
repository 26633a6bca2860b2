"""scaffolder: render Python web-service starters from one Copier template.

The library API (what the CLI and a web front end call) lives in :mod:`scaffolder.project`;
the registry of frameworks and extensions in :mod:`scaffolder.registry`.
"""

__version__ = "0.1.0"
