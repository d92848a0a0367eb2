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
}());
