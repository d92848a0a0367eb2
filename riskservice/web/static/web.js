// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
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
