"""The page (`GET /`): one form, rendered on the server from the registry and the query.

Without JavaScript the form works: "Update" reloads the page with the selection (share link,
command line and disabled choices follow it), "Download zip" and "Download tar.gz" submit the
same form to the archives. With JavaScript (`static/app.js`, served by this app, nothing
fetched elsewhere) the preview of the file tree and a selected file's content, the share link
and the command line follow every change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

from scaffolder.registry import Registry
from scaffolder.serve.selection import DEFAULT_NAME, MAX_DESCRIPTION, BadRequest, Selection

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:.8rem 1.5rem}header h1{margin:0;font-size:1.3rem}
main{display:grid;grid-template-columns:minmax(22rem,34rem) minmax(0,1fr);gap:1.5rem;padding:1.5rem}
fieldset{border:1px solid #ccd;border-radius:6px;margin:0 0 1rem;background:#fff}
legend{font-weight:600}label{display:block;margin:.2rem 0}
.choice small,.reason{color:#667;display:block;margin-left:1.6rem;font-size:.85em}
.reason{color:#a33}input[disabled]+span{color:#999}
input[type=text]{width:95%;padding:.3rem}
.actions button,.actions a{margin-right:.5rem}
pre{background:#fff;border:1px solid #ccd;padding:.6rem;overflow:auto;white-space:pre}
#tree{list-style:none;padding:0;margin:0;max-height:22rem;overflow:auto;
font:13px monospace;background:#fff;border:1px solid #ccd}
#tree li{padding:1px .5rem;cursor:pointer}#tree li[aria-selected=true]{background:#dde6f5}
#content{max-height:32rem}.error{color:#a33;font-weight:600}
"""


def render_page(
    registry: Registry,
    selection: Selection | None,
    error: BadRequest | None,
    *,
    params: Sequence[tuple[str, str]],
    commit: str | None,
) -> str:
    state = _state(registry, selection, params)
    framework = state["framework"]
    query = selection.query(registry) if selection else ""
    command = selection.command(registry) if selection else ""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>scaffold: new Python web service</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<header><h1>scaffold &mdash; a new Python web service</h1></header>",
        "<main><div>",
        '<form id="form" method="get" action="/">',
        "<fieldset><legend>Project</legend><label>Name "
        f'<input type="text" name="name" value="{escape(state["name"])}" maxlength="60" '
        "required></label>",
        '<label>Description <input type="text" name="description" '
        f'value="{escape(state["description"])}" maxlength="{MAX_DESCRIPTION}"></label>',
        "</fieldset>",
        _frameworks(registry, framework),
        _pythons(registry, framework, state["python"]),
        _extensions(registry, framework, state["extensions"]),
        '<p class="actions">',
        '<button type="submit" id="update">Update</button>',
        '<button type="submit" id="download" formaction="/starter.zip">Download zip</button>',
        '<button type="submit" formaction="/starter.tgz">Download tar.gz</button></p>',
        "</form>",
        f'<p id="error" class="error" role="alert">{escape(error.message) if error else ""}</p>',
        f'<p>Share: <a id="share" href="/?{escape(query)}">this selection</a></p>',
        "<p>The same with the command line:</p>",
        f'<pre><code id="command">{escape(command)}</code></pre>',
        '<button type="button" id="copy" hidden>Copy the command</button>',
        "</div>",
        '<section id="preview" aria-label="Preview"><h2>Preview</h2>',
        "<noscript><p>The live preview needs JavaScript; the form and the downloads work "
        "without it.</p></noscript>",
        '<p id="status"></p><ul id="tree" role="listbox"></ul>',
        '<h3 id="filename"></h3><pre id="content"></pre></section></main>',
        f"<footer><p>Template commit: {escape(commit or 'unknown')}</p></footer>",
        '<script type="application/json" id="metadata">'
        f"{_json_for_html(_page_metadata(registry))}</script>",
        '<script src="/static/app.js" defer></script>',
        "</body></html>",
    ]
    return "\n".join(parts)


def _state(
    registry: Registry, selection: Selection | None, params: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    if selection is not None:
        return {
            "name": selection.typed_name,
            "description": selection.description or "",
            "framework": selection.spec.framework,
            "python": selection.spec.python_version,
            "extensions": selection.spec.extensions,
        }
    raw = dict(params)  # a refused request: keep what can be kept, defaults for the rest
    framework = raw.get("framework", "")
    if framework not in registry.frameworks:
        framework = registry.default_framework
    python = raw.get("python", "")
    if python not in registry.python_versions_for(framework):
        python = registry.default_python_for(framework)
    return {
        "name": raw.get("name", DEFAULT_NAME)[:60],
        "description": raw.get("description", "")[:MAX_DESCRIPTION],
        "framework": framework,
        "python": python,
        "extensions": registry.default_extensions(framework),
    }


def _frameworks(registry: Registry, chosen: str) -> str:
    rows = ['<fieldset id="frameworks"><legend>Framework</legend>']
    for fw in registry.frameworks.values():
        checked = " checked" if fw.name == chosen else ""
        rows.append(
            f'<label class="choice"><input type="radio" name="framework" '
            f'value="{escape(fw.name)}"{checked}> <span>{escape(fw.label)}</span>'
            f"<small>{escape(fw.description)}</small></label>"
        )
    rows.append("</fieldset>")
    return "\n".join(rows)


def _pythons(registry: Registry, framework: str, chosen: str) -> str:
    unsupported = registry.frameworks[framework].python_unsupported
    options = []
    for version in registry.python_versions:
        reason = unsupported.get(version)
        attrs = " selected" if version == chosen else ""
        attrs += " disabled" if reason else ""
        shown = f"{version} (not with {framework}: {reason})" if reason else version
        options.append(f'<option value="{escape(version)}"{attrs}>{escape(shown)}</option>')
    return (
        "<fieldset><legend>Python</legend><label>Oldest supported version "
        f'<select name="python" id="python">{"".join(options)}</select></label></fieldset>'
    )


def _extensions(registry: Registry, framework: str, chosen: Sequence[str]) -> str:
    groups = registry.groups()
    grouped = {name for members in groups.values() for name in members}
    # Always sent, so that no box ticked means "no extensions", not "the defaults".
    rows = [
        '<fieldset id="extensions"><legend>Extensions</legend>',
        '<input type="hidden" name="extensions" value="">',
    ]
    for ext in registry.extensions.values():
        if ext.name not in grouped:
            rows.append(_extension(registry, framework, ext.name, "checkbox", chosen))
    for group, members in groups.items():
        none = "" if any(m in chosen for m in members) else " checked"
        rows.append(
            f'<fieldset class="group" data-group="{escape(group)}">'
            f"<legend>{escape(group.capitalize())} (one at a time)</legend>"
            f'<label class="choice"><input type="radio" name="extensions" value=""{none}> '
            "<span>None</span></label>"
        )
        rows += [_extension(registry, framework, name, "radio", chosen) for name in members]
        rows.append("</fieldset>")
    rows.append("</fieldset>")
    return "\n".join(rows)


def _extension(
    registry: Registry, framework: str, name: str, kind: str, chosen: Sequence[str]
) -> str:
    ext = registry.extensions[name]
    reason = ext.unsupported_frameworks.get(framework)
    attrs = " checked" if name in chosen and not reason else ""
    attrs += " disabled" if reason else ""
    needs = f" Needs {', '.join(ext.requires)}." if ext.requires else ""
    why = f"not with {framework}: {reason}" if reason else ""
    return (
        f'<label class="choice" data-extension="{escape(name)}"><input type="{kind}" '
        f'name="extensions" value="{escape(name)}"{attrs}> '
        f"<span>{escape(ext.label)} (<code>{escape(name)}</code>)</span>"
        f"<small>{escape(ext.description + needs)}</small>"
        f'<small class="reason">{escape(why)}</small></label>'
    )


def _page_metadata(registry: Registry) -> dict[str, Any]:
    """What the script needs to disable choices as the framework changes."""
    return {
        "frameworks": {
            fw.name: {
                "python_unsupported": dict(fw.python_unsupported),
                "default_extensions": list(registry.default_extensions(fw.name)),
            }
            for fw in registry.frameworks.values()
        },
        "extensions": {
            ext.name: {"unsupported_frameworks": dict(ext.unsupported_frameworks)}
            for ext in registry.extensions.values()
        },
    }


def _json_for_html(data: Any) -> str:
    # Inside <script>: no "</script>" or "<!--" can appear.
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
