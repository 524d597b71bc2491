// Atrium console: progressive enhancements only; every page works without this file.
"use strict";
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest("[data-copy]");
  if (!btn) return;
  var src = document.getElementById(btn.getAttribute("data-copy"));
  var note = btn.parentElement.querySelector(".copied");
  if (!src || !navigator.clipboard) { if (note) note.textContent = "Select the text and copy it."; return; }
  navigator.clipboard.writeText(src.textContent.trim()).then(function () {
    if (note) note.textContent = "Copied";
  }, function () {
    if (note) note.textContent = "Copy failed: select the text and copy it.";
  });
});
// The "Mixed" indicator of each permission category follows the rows below it.
document.addEventListener("change", function (ev) {
  var body = ev.target.closest("table.perms tbody");
  if (!body) return;
  var levels = [];
  body.querySelectorAll("tr:not(.cat)").forEach(function (row) {
    var c = row.querySelector("input[type=radio]:checked");
    levels.push(c ? c.value : "none");
  });
  var mixed = levels.some(function (l) { return l !== levels[0]; });
  var names = { none: "No access", read_only: "Read only", read_write: "Read/write" };
  var out = body.querySelector("[data-summary]");
  if (!out) return;
  out.textContent = mixed ? "Mixed" : names[levels[0] || "none"];
  out.classList.toggle("mixed", mixed);
});
