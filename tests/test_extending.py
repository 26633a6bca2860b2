"""Adding a framework is one folder and one registry entry: no shared file changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from .templates import commit, fork_template, git


def test_a_new_framework_is_one_folder_and_one_registry_entry(
    scaffold: Any, tmp_path: Path
) -> None:
    fork = fork_template(tmp_path / "fork")
    shutil.copytree(fork / "templates" / "flask", fork / "templates" / "flask2")
    registry_file = fork / "templates" / "registry.yml"
    registry = yaml.safe_load(registry_file.read_text())
    registry["frameworks"]["flask2"] = {
        **registry["frameworks"]["flask"],
        "label": "Flask Two",
        "description": "A second Flask-based starter, added by a fork.",
    }
    registry_file.write_text(yaml.safe_dump(registry, sort_keys=False))
    commit(fork, "add flask2", tag="v1.1.0")
    changed = git(fork, "diff", "--name-only", "v1.0.0", "v1.1.0").split()
    assert all(
        path.startswith("templates/flask2/") for path in changed if path != "templates/registry.yml"
    )

    listing = scaffold("list", "--json", "--template", str(fork))
    assert listing.code == 0
    offered = {fw["name"]: fw for fw in json.loads(listing.out)["frameworks"]}
    assert offered["flask2"]["label"] == "Flask Two"
    assert offered["flask2"]["server"] == "gunicorn"

    result = scaffold(
        "new", "two", "--template", str(fork), "-f", "flask2", "--defaults", "--no-lock", "--no-git"
    )
    assert result.code == 0, result.err
    project = tmp_path / "two"
    assert "from flask import" in (project / "src" / "two" / "app.py").read_text()
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["framework"] == "flask2"
    assert (project / "Dockerfile").is_file()
