// scaffold serve: the page's live preview, share link and command line. No build step, no
// library, nothing fetched but this server's own /preview.
"use strict";
(function () {
  const form = document.getElementById("form");
  const meta = JSON.parse(document.getElementById("metadata").textContent);
  const tree = document.getElementById("tree");
  const content = document.getElementById("content");
  const filename = document.getElementById("filename");
  const status = document.getElementById("status");
  const error = document.getElementById("error");
  const share = document.getElementById("share");
  const command = document.getElementById("command");
  const copy = document.getElementById("copy");
  let files = [];
  let selected = null;
  let pending = null;
  let generation = 0;

  function framework() {
    const checked = form.querySelector('input[name="framework"]:checked');
    return checked ? checked.value : "";
  }

  // Disable what the chosen framework cannot take, with the reason beside it.
  function applyRules() {
    const fw = framework();
    for (const label of form.querySelectorAll("[data-extension]")) {
      const name = label.dataset.extension;
      const input = label.querySelector("input");
      const reason = (meta.extensions[name].unsupported_frameworks || {})[fw];
      input.disabled = Boolean(reason);
      if (reason) input.checked = false;
      label.querySelector(".reason").textContent = reason ? "not with " + fw + ": " + reason : "";
    }
    for (const group of form.querySelectorAll("fieldset.group")) {
      if (!group.querySelector("input:checked")) group.querySelector('input[value=""]').checked = true;
    }
    const unsupported = meta.frameworks[fw].python_unsupported;
    const select = document.getElementById("python");
    for (const option of select.options) {
      const reason = unsupported[option.value];
      option.disabled = Boolean(reason);
      option.textContent = option.value + (reason ? " (not with " + fw + ": " + reason + ")" : "");
      if (reason && option.selected) select.value = "";
    }
    if (!select.value) {
      const first = Array.from(select.options).reverse().find((o) => !o.disabled);
      if (first) select.value = first.value;
    }
  }

  function query() {
    const data = new FormData(form);
    const params = new URLSearchParams();
    params.set("name", data.get("name") || "");
    params.set("framework", framework());
    params.set("python", data.get("python") || "");
    params.set("extensions", data.getAll("extensions").filter(Boolean).join(","));
    const description = data.get("description");
    if (description) params.set("description", description);
    return params.toString();
  }

  function showTree() {
    tree.replaceChildren();
    for (const file of files) {
      const item = document.createElement("li");
      item.textContent = file.path + (file.executable ? " *" : "");
      item.dataset.path = file.path;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(file.path === selected));
      item.addEventListener("click", () => showFile(file.path));
      tree.appendChild(item);
    }
  }

  function showFile(path) {
    const file = files.find((f) => f.path === path);
    if (!file) return;
    selected = path;
    filename.textContent = path;
    content.textContent = file.text === null ? "(binary file, " + file.size + " bytes)" : file.text;
    for (const item of tree.children) {
      item.setAttribute("aria-selected", String(item.dataset.path === path));
    }
  }

  async function refresh() {
    const mine = ++generation;
    const q = query();
    share.href = "/?" + q;
    status.textContent = "Rendering the preview...";
    let answer;
    let body;
    try {
      answer = await fetch("/preview?" + q, { headers: { Accept: "application/json" } });
      body = await answer.json();
    } catch (exc) {
      if (mine === generation) status.textContent = "The preview failed: " + exc;
      return;
    }
    if (mine !== generation) return; // a later change is on its way
    if (!answer.ok) {
      error.textContent = body.error + (body.valid ? " (valid: " + [].concat(body.valid).join(", ") + ")" : "");
      status.textContent = "";
      return;
    }
    error.textContent = "";
    share.href = body.share;
    command.textContent = body.command;
    files = body.files;
    status.textContent = body.project + ": " + files.length + " files";
    if (!files.some((f) => f.path === selected)) selected = files.length ? "README.md" : null;
    showTree();
    if (selected) showFile(selected);
  }

  function changed(event) {
    if (event && event.target && event.target.name === "framework") applyRules();
    clearTimeout(pending);
    pending = setTimeout(refresh, 250);
  }

  form.addEventListener("change", changed);
  form.addEventListener("input", (event) => {
    if (event.target.type === "text") changed(event);
  });
  copy.hidden = false;
  copy.addEventListener("click", () => navigator.clipboard.writeText(command.textContent));
  applyRules();
  refresh();
})();
