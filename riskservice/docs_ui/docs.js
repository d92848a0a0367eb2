// Renders /openapi.json as a plain page: operations, parameters, bodies, responses, schemas.
"use strict";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function pretty(value) { return el("pre", {}, JSON.stringify(value, null, 2)); }

function refName(schema) {
  return schema && schema.$ref ? schema.$ref.split("/").pop() : null;
}

function content(media) {
  const box = el("div");
  for (const [type, body] of Object.entries(media || {})) {
    const ref = refName(body.schema);
    box.append(el("div", {}, el("code", {}, type), ref ? " — schema " : "",
                  ref ? el("a", {href: "#schema-" + ref}, ref) : ""));
    if (body.example !== undefined) box.append(el("details", {}, el("summary", {}, "example"), pretty(body.example)));
    for (const [name, ex] of Object.entries(body.examples || {})) {
      box.append(el("details", {}, el("summary", {}, "example: " + name), pretty(ex.value)));
    }
    if (!ref && body.schema) box.append(el("details", {}, el("summary", {}, "schema"), pretty(body.schema)));
  }
  return box;
}

function operation(path, method, op) {
  const box = el("div", {class: "op", id: op.operationId || ""});
  box.append(el("div", {}, el("span", {class: "method " + method}, method), " ",
                el("span", {class: "path"}, path), " — ", op.summary || ""));
  if (op.description) box.append(el("p", {}, op.description));
  if (op.parameters && op.parameters.length) {
    const t = el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "description")));
    for (const p of op.parameters) t.append(el("tr", {}, el("td", {}, p.name), el("td", {}, p.in), el("td", {}, p.description || "")));
    box.append(t);
  }
  if (op.requestBody) box.append(el("h4", {}, "Request body"), content(op.requestBody.content));
  const t = el("table", {}, el("tr", {}, el("th", {}, "status"), el("th", {}, "meaning"), el("th", {}, "content")));
  for (const [code, r] of Object.entries(op.responses || {})) {
    t.append(el("tr", {}, el("td", {}, code), el("td", {}, r.description || ""), el("td", {}, content(r.content))));
  }
  box.append(el("h4", {}, "Responses"), t);
  return box;
}

async function main() {
  const spec = await (await fetch("/openapi.json", {headers: {Accept: "application/json"}})).json();
  document.getElementById("title").textContent = spec.info.title + " " + spec.info.version;
  document.getElementById("description").textContent = spec.info.description || "";
  const ops = document.getElementById("operations");
  ops.replaceChildren();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) ops.append(operation(path, method, op));
  }
  const schemas = document.getElementById("schemas");
  for (const [name, schema] of Object.entries((spec.components || {}).schemas || {})) {
    schemas.append(el("details", {id: "schema-" + name}, el("summary", {}, name), pretty(schema)));
  }
}

main().catch((err) => {
  document.getElementById("operations").textContent = "Could not load /openapi.json: " + err;
});
