"""`scaffold check`: render every template and the option combinations that matter, and run each
starter's own tests, linters, type checker and server. See matrix (which cases), steps (one
case) and runner (many cases, reporting)."""
