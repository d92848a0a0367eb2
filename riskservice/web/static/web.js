// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });

  // Sections that open in place: a link to something inside a closed one opens it first,
  // and printing opens them all (closing again those the reader had closed).
  function openAround(el) {
    for (var d = el && el.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) {
      d.open = true;
    }
  }
  function openTarget() {
    if (location.hash.length > 1) { openAround(document.getElementById(decodeURIComponent(location.hash.slice(1)))); }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href^='#']");
    if (a) { openAround(document.getElementById(a.getAttribute("href").slice(1))); }
  });
  var closedForPrint = [];
  window.addEventListener("beforeprint", function () {
    closedForPrint = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) { return !d.open; });
    closedForPrint.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    closedForPrint.forEach(function (d) { d.open = false; });
    closedForPrint = [];
  });

  var form = document.getElementById("batch-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var status = document.getElementById("batch-status");
  var bar = document.getElementById("batch-progress");
  var message = document.getElementById("batch-message");
  var link = document.getElementById("batch-download");
  form.addEventListener("submit", function (event) {
    var input = document.getElementById("batch-file");
    if (!input.files.length) { return; }
    event.preventDefault();
    var file = input.files[0];
    var xhr = new XMLHttpRequest();
    status.hidden = false; link.hidden = true; bar.value = 0;
    message.textContent = "Uploading " + file.name + "…";
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.value = Math.round(50 * e.loaded / e.total); }
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate while the server scores and streams back
      message.textContent = "Scoring…";
    });
    xhr.addEventListener("progress", function (e) {
      message.textContent = "Scoring… " + Math.round(e.loaded / 1024) + " kB of results received";
    });
    xhr.addEventListener("load", function () {
      bar.value = 100;
      if (xhr.status !== 200) {
        var detail = "";
        try { var p = JSON.parse(xhr.responseText); detail = p.detail || p.title || ""; } catch (err) { detail = xhr.statusText; }
        message.textContent = "The file was not scored (HTTP " + xhr.status + "): " + detail;
        return;
      }
      var rows = xhr.responseText.split(/\r?\n/).filter(function (l) { return l.length; }).length - 1;
      var blob = new Blob([xhr.responseText], { type: "text/csv" });
      link.href = URL.createObjectURL(blob);
      link.download = "scored-" + file.name.replace(/\.csv$/i, "") + ".csv";
      link.hidden = false;
      message.textContent = "Done: " + rows + " rows scored.";
      link.focus();
    });
    xhr.addEventListener("error", function () { message.textContent = "The upload failed (network error)."; });
    xhr.open("POST", form.getAttribute("action"));
    xhr.send(new FormData(form));
  });
}());
