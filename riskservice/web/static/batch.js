// The batch page (progressive enhancement: without this file the form posts the CSV and the browser
// receives the scored file). With it: a mapping step that shows how each column will be read
// (POST /v1/score/batch/columns) and lets the user change it, then an upload with a progress bar,
// and the truth about the answer: rows scored, rows with errors, columns ignored, the first 50 errors
// and a download of all of them.
(function () {
  "use strict";
  var form = document.getElementById("batch-form");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.fetch || !window.Blob) { return; }
  var fileInput = document.getElementById("batch-file");
  var mappingInput = document.getElementById("batch-mapping");
  var columnsBox = document.getElementById("batch-columns");
  var columnsSummary = document.getElementById("batch-columns-summary");
  var problemsList = document.getElementById("batch-problems");
  var tbody = document.querySelector("#batch-column-table tbody");
  var status = document.getElementById("batch-status");
  var bar = document.getElementById("batch-progress");
  var message = document.getElementById("batch-message");
  var counts = document.getElementById("batch-counts");
  var errorsBox = document.getElementById("batch-errors");
  var errorsBody = document.querySelector("#batch-error-table tbody");
  var errorsNote = document.getElementById("batch-errors-note");
  var errorsLink = document.getElementById("batch-errors-download");
  var link = document.getElementById("batch-download");
  var FIRST_ERRORS = 50;
  var columns = [];     // header names, in file order
  var fields = [];      // [{name, kind, required, units}] from the server
  var changed = {};     // column -> {field, unit} the user picked (field "" = pass through unread)

  function text(el, value) { el.textContent = value; return el; }
  function make(tag, value) { return text(document.createElement(tag), value === undefined ? "" : value); }

  // --- CSV (RFC 4180): records of cells; quoted cells may hold delimiters, quotes and line breaks
  function parseCsv(source, delimiter) {
    var rows = [], row = [], cell = "", quoted = false, i = 0, c;
    for (; i < source.length; i++) {
      c = source[i];
      if (quoted) {
        if (c === '"') {
          if (source[i + 1] === '"') { cell += '"'; i++; } else { quoted = false; }
        } else { cell += c; }
      } else if (c === '"' && cell === "") { quoted = true; }
      else if (c === delimiter) { row.push(cell); cell = ""; }
      else if (c === "\n" || c === "\r") {
        if (c === "\r" && source[i + 1] === "\n") { i++; }
        row.push(cell); rows.push(row); row = []; cell = "";
      } else { cell += c; }
    }
    if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
    return rows;
  }
  function headerOf(source) {
    var end = source.search(/\r?\n/);
    var line = (end < 0 ? source : source.slice(0, end)).replace(/^\ufeff/, "");
    var best = ",", most = -1;
    [",", ";", "\t", "|"].forEach(function (d) {
      var n = line.split(d).length;
      if (n > most) { most = n; best = d; }
    });
    return parseCsv(line, best)[0] || [];
  }

  // --- the mapping step
  function mappingObject() {
    var m = { columns: {}, units: {}, ignore: [] };
    Object.keys(changed).forEach(function (column) {
      var pick = changed[column];
      if (pick.field === "") { m.ignore.push(column); return; }
      if (pick.field) { m.columns[pick.field] = column; }
    });
    Object.keys(changed).forEach(function (column) {
      var pick = changed[column];
      if (pick.field && pick.unit) { m.units[pick.field] = pick.unit; }
    });
    if (!Object.keys(m.units).length) { delete m.units; }
    return m;
  }
  function preview() {
    var mapping = mappingObject();
    mappingInput.value = Object.keys(changed).length ? JSON.stringify(mapping) : "";
    return fetch("/v1/score/batch/columns", {
      method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
      body: JSON.stringify({ columns: columns, mapping: mapping })
    }).then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
      .then(function (answer) {
        if (answer.status !== 200) { showProblem(answer.body, columnsSummary); return; }
        fields = answer.body.fields;
        render(answer.body);
      })
      .catch(function () { text(columnsSummary, "The columns could not be checked (network error)."); });
  }
  function render(report) {
    var used = {};
    report.used.forEach(function (u) { used[u.column] = u; });
    var problems = report.problems || {};
    tbody.textContent = "";
    columns.forEach(function (column, k) {
      var tr = document.createElement("tr");
      var th = make("th", column);
      th.scope = "row";
      tr.appendChild(th);
      var entry = used[column];
      var fieldCell = document.createElement("td");
      var select = document.createElement("select");
      select.id = "map-" + k;
      select.setAttribute("aria-label", "Read column " + column + " as");
      var problem = problems[column];
      if (problem && !entry && !changed[column]) {
        select.appendChild(option("?", "choose: a field, or not read"));   // a look-alike: the user decides
      }
      select.appendChild(option("", "not read (passed through)"));
      fields.forEach(function (f) {
        select.appendChild(option(f.name, f.name + (f.required ? " (required)" : "")));
        if (f.units.length) { select.appendChild(option(f.name + "_unit", f.name + "_unit (the unit of " + f.name + ")")); }
      });
      select.value = entry ? entry.field : (problem && !changed[column] ? "?" : "");
      select.addEventListener("change", function () {
        if (select.value === "?") { delete changed[column]; preview(); return; }
        changed[column] = { field: select.value, unit: (changed[column] || {}).unit };
        preview();
      });
      fieldCell.appendChild(select);
      var how = entry ? (entry.by === "name" ? "by its name" : "recognised (" + entry.by + ")") : "";
      if (changed[column]) { how = "your choice"; }
      if (how) { fieldCell.appendChild(make("span", " " + how)).className = "meta"; }
      tr.appendChild(fieldCell);
      var unitCell = document.createElement("td");
      var f = entry && fields.filter(function (x) { return x.name === entry.field; })[0];
      if (f && f.units.length > 1) {
        var unit = document.createElement("select");
        unit.id = "unit-" + k;
        unit.setAttribute("aria-label", "Unit of column " + column);
        unit.appendChild(option("", entry.unit ? entry.unit + " (" + entry.unit_from + ")" : "as written, or inferred"));
        f.units.forEach(function (u) { unit.appendChild(option(u, u)); });
        unit.value = (changed[column] || {}).unit || "";
        unit.addEventListener("change", function () {
          changed[column] = { field: select.value, unit: unit.value };
          preview();
        });
        unitCell.appendChild(unit);
        if (!entry.unit && entry.unit_from) { unitCell.appendChild(make("span", " " + entry.unit_from)).className = "meta"; }
      } else if (entry && entry.unit) {
        unitCell.textContent = entry.unit;
      }
      tr.appendChild(unitCell);
      if (problem) { tr.className = "problem"; tr.appendChild(make("td", problem.join(" "))); }
      else { tr.appendChild(make("td", "")); }
      tbody.appendChild(tr);
    });
    problemsList.textContent = "";
    Object.keys(problems).forEach(function (where) {
      problemsList.appendChild(make("li", where + ": " + problems[where].join(" ")));
    });
    var n = Object.keys(problems).length;
    text(columnsSummary, report.used.length + " column(s) will be read, " + report.ignored.length +
         " passed through unread" + (n ? "; " + n + " problem(s) to resolve before scoring (below)." : "."));
    columnsBox.hidden = false;
  }
  function option(value, label) { var o = make("option", label); o.value = value; return o; }

  fileInput.addEventListener("change", function () {
    changed = {};
    mappingInput.value = "";
    status.hidden = true;
    if (!fileInput.files.length) { columnsBox.hidden = true; return; }
    fileInput.files[0].slice(0, 1 << 20).text().then(function (head) {
      columns = headerOf(head);
      return preview();
    });
  });

  // --- the upload and the answer
  function showProblem(p, where) {
    var lines = [(p && (p.title || p.detail)) || "The request was refused."];
    var errors = (p && p.errors) || {};
    Object.keys(errors).forEach(function (k) { lines.push(k + ": " + errors[k].join(" ")); });
    text(where, lines.join("\n"));
  }
  function errorRowsCsv(header, rows) {
    function cell(v) { return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v; }
    return [header].concat(rows).map(function (r) { return r.map(cell).join(","); }).join("\n") + "\n";
  }
  form.addEventListener("submit", function (event) {
    if (!fileInput.files.length) { return; }
    event.preventDefault();
    var file = fileInput.files[0];
    var xhr = new XMLHttpRequest();
    status.hidden = false; link.hidden = true; errorsBox.hidden = true; bar.value = 0;
    text(counts, "");
    text(message, "Uploading " + file.name + "…");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.value = Math.round(50 * e.loaded / e.total); }
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate while the server scores and streams back
      text(message, "Scoring…");
    });
    xhr.addEventListener("progress", function (e) {
      text(message, "Scoring… " + Math.round(e.loaded / 1024) + " kB of results received");
    });
    xhr.addEventListener("load", function () {
      bar.value = 100;
      if (xhr.status !== 200) {
        var p = null;
        try { p = JSON.parse(xhr.responseText); } catch (err) { p = { title: xhr.statusText }; }
        text(message, "The file was not scored (HTTP " + xhr.status + ").");
        showProblem(p, counts);
        return;
      }
      // A complete answer ends with its marker line (#riskservice-end rows=N ...): none means it was cut.
      var answer = xhr.responseText;
      var end = answer.lastIndexOf("#riskservice-end rows=");
      if (end < 0 || !/^#riskservice-end rows=\d+ /.test(answer.slice(end))) {
        text(message, "The answer was cut short, so only part of the file was scored. Please try again.");
        return;
      }
      answer = answer.slice(0, end);
      var rows = parseCsv(answer, ",");
      var header = rows.shift() || [];
      rows = rows.filter(function (r) { return r.length > 1 || r[0] !== ""; });
      var at = header.indexOf("error");
      var failed = [];
      rows.forEach(function (r, k) { if (r[at]) { failed.push([String(k + 1)].concat(r)); } });
      var ignored = Number(xhr.getResponseHeader("X-Columns-Ignored-Count") || 0);
      var scored = rows.length - failed.length;
      text(message, "Done.");
      text(counts, scored + " scored, " + failed.length + " with errors, " + ignored + " column" +
           (ignored === 1 ? "" : "s") + " ignored (" + rows.length + " rows in all).");
      link.href = URL.createObjectURL(new Blob([answer], { type: "text/csv" }));
      link.download = "scored-" + file.name.replace(/\.csv$/i, "") + ".csv";
      link.hidden = false;
      errorsBody.textContent = "";
      if (failed.length) {
        var ids = header.slice(0, Math.max(0, header.indexOf("points")));
        failed.slice(0, FIRST_ERRORS).forEach(function (r) {
          var tr = document.createElement("tr");
          var th = make("th", r[0]);
          th.scope = "row";
          tr.appendChild(th);
          tr.appendChild(make("td", ids.map(function (name, j) { return r[1 + j]; }).filter(Boolean).join(", ")));
          tr.appendChild(make("td", r[1 + at]));
          errorsBody.appendChild(tr);
        });
        text(errorsNote, failed.length > FIRST_ERRORS ? "The first " + FIRST_ERRORS + " of " + failed.length +
             " rows with errors; download them all below." : "All " + failed.length + " rows with errors.");
        errorsLink.href = URL.createObjectURL(new Blob([errorRowsCsv(["row"].concat(header), failed)],
                                                       { type: "text/csv" }));
        errorsLink.download = "errors-" + file.name.replace(/\.csv$/i, "") + ".csv";
        text(errorsLink, "Download all " + failed.length + " rows with errors (CSV)");
        errorsBox.hidden = false;
      }
      link.focus();
    });
    xhr.addEventListener("error", function () { text(message, "The upload failed (network error)."); });
    xhr.open("POST", form.getAttribute("action"));
    xhr.send(new FormData(form));
  });
}());
