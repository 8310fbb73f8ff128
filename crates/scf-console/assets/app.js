// The scf console: one page, routed by the URL's hash. Everything it shows comes from
// /console/api/ (the cloud API's actions and the console's own endpoints); every request
// that is not a GET carries the session's CSRF token.
"use strict";

const state = { csrf: "", functions: [], templates: [], charts: [] };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function getJson(path) {
  const r = await fetch("/console/api/" + path, { credentials: "same-origin" });
  if (r.status === 401) { location.href = "/console/login"; throw new Error("signed out"); }
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

async function send(method, path, body) {
  const r = await fetch("/console/api/" + path, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": state.csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401) { location.href = "/console/login"; throw new Error("signed out"); }
  const out = await r.json();
  if (!r.ok) throw new Error(out.error || r.statusText);
  return out;
}

// A cloud API action: its `Response`, or an Error with the API's code and message.
async function action(name, params) {
  const out = await send("POST", "action/" + name, params);
  const resp = out.Response || {};
  if (resp.Error) throw new Error(resp.Error.Code + ": " + resp.Error.Message);
  return resp;
}

function apiTime(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function fromLocalInput(v) { return v ? apiTime(new Date(v)) : undefined; }

function bytes(n) { return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : n >= 1024 ? (n / 1024).toFixed(1) + " KB" : n + " B"; }

function fnKey(f) { return f.namespace + "/" + f.name; }

function errorBox(e) { return el("p", { class: "error" }, String(e.message || e)); }

function view(...children) {
  for (const c of state.charts) c.destroy();
  state.charts = [];
  const v = document.getElementById("view");
  v.replaceChildren(...children);
  return v;
}

function select(id, options, value, onchange) {
  return el("select", { id, onchange }, options.map(([v, label]) =>
    el("option", { value: v, selected: v === value }, label)));
}

function functionOptions(withAll) {
  const opts = state.functions.map((f) => [fnKey(f), f.namespace === "default" ? f.name : fnKey(f)]);
  return withAll ? [["", "(all functions)"], ...opts] : opts;
}

function splitKey(key) {
  const i = key.indexOf("/");
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

function hashParams() {
  const h = location.hash.slice(1);
  const q = h.indexOf("?");
  return { path: q < 0 ? h : h.slice(0, q), params: new URLSearchParams(q < 0 ? "" : h.slice(q + 1)) };
}

// ---- Functions ----

async function functionsPage() {
  const { functions } = await getJson("functions");
  state.functions = functions;
  const rows = functions.map((f) => el("tr", { "data-function": f.name },
    el("td", {}, f.namespace),
    el("td", {}, el("a", { href: `#/function/${encodeURIComponent(f.namespace)}/${encodeURIComponent(f.name)}`, class: "function-link" }, f.name)),
    el("td", {}, f.runtime), el("td", {}, f.type),
    el("td", { class: "num" }, f.memoryMb + " MB"), el("td", { class: "num" }, f.timeoutS + " s"),
    el("td", {}, f.triggers.length ? f.triggers.map((t) => el("div", {}, t)) : "—"),
    el("td", { class: "num" }, f.concurrencyLimit),
    el("td", { class: "num running" }, f.busy),
    el("td", { class: "num warm", title: f.warmInstances === null ? "runs in the server's process: no instances" : "" },
      f.warmInstances === null ? "in process" : String(f.warmInstances)),
    el("td", { class: "num busy-instances" }, f.busyInstances === null ? "—" : String(f.busyInstances)),
    el("td", { class: "num invocations" }, f.invocationsLastHour),
    el("td", { class: "num errors" }, f.errorsLastHour)));
  view(el("h1", {}, "Functions"),
    el("table", { id: "functions-table" },
      el("thead", {}, el("tr", {}, ["Namespace", "Name", "Runtime", "Type", "Memory", "Timeout", "Triggers",
        "Concurrency limit", "Running", "Warm instances", "Busy instances", "Invocations (1 h)", "Errors (1 h)"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows)));
}

// ---- Function: configuration and test ----

async function functionPage(namespace, name) {
  if (!state.templates.length) state.templates = await getJson("templates");
  const config = await action("GetFunction", { FunctionName: name, Namespace: namespace });
  const editor = el("textarea", { id: "event-editor", spellcheck: "false", rows: 14 });
  editor.value = JSON.stringify(state.templates[0].event, null, 2);
  const problem = el("p", { id: "event-error", class: "error", hidden: true });
  const result = el("section", { id: "invoke-result", class: "card", hidden: true });
  const vars = (config.Environment && config.Environment.Variables) || [];
  const saved = el("div", { id: "saved-events" });
  const templateSelect = select("event-template", state.templates.map((t, i) => [String(i), t.name]), "0",
    () => { editor.value = JSON.stringify(state.templates[Number(templateSelect.value)].event, null, 2); check(); });
  const type = select("invocation-type", [["RequestResponse", "Synchronous"], ["Event", "Asynchronous"]], "RequestResponse");
  function check() {
    try { JSON.parse(editor.value); problem.hidden = true; return true; } catch (e) {
      problem.textContent = "The event is not valid JSON: " + e.message; problem.hidden = false; return false;
    }
  }
  editor.addEventListener("input", check);
  async function invoke() {
    if (!check()) return;
    result.hidden = false;
    result.replaceChildren(el("p", {}, "Invoking…"));
    try {
      const r = await action("Invoke", { FunctionName: name, Namespace: namespace, InvocationType: type.value,
        ClientContext: JSON.stringify(JSON.parse(editor.value)), LogType: "Tail" });
      result.replaceChildren(...invokeResult(r.Result || {}, type.value, namespace, name));
    } catch (e) { result.replaceChildren(errorBox(e)); }
  }
  view(el("h1", {}, name, el("span", { class: "sub" }, " in " + namespace)),
    el("section", { class: "card", id: "function-config" }, el("h2", {}, "Configuration"),
      el("dl", {},
        ...[["Runtime", config.Runtime], ["Handler", config.Handler], ["Memory", config.MemorySize + " MB"],
          ["Timeout", config.Timeout + " s"], ["Init timeout", config.InitTimeout + " s"], ["Version", config.FunctionVersion],
          ["Environment", vars.length ? vars.map((v) => v.Key + "=" + v.Value).join(", ") : "—"]]
          .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]))),
    el("section", { class: "card" }, el("h2", {}, "Test"),
      el("div", { class: "row" }, el("label", {}, "Template ", templateSelect), el("label", {}, "Invocation ", type),
        el("button", { id: "invoke-button", onclick: invoke }, "Invoke")),
      editor, problem, saved),
    result);
  if (window.scfSavedEvents) window.scfSavedEvents(saved, namespace, name, editor, check);
}

function invokeResult(r, type, namespace, name) {
  if (type === "Event") {
    return [el("h2", {}, "Accepted"), el("p", {}, "Async event ", el("code", { id: "result-request-id" }, r.FunctionRequestId),
      " is queued. ", el("a", { href: `#/async?fn=${encodeURIComponent(namespace + "/" + name)}` }, "See it in Async events"))];
  }
  let status = 200;
  if (r.InvokeResult !== 0) {
    try { status = JSON.parse(r.ErrMsg || r.RetMsg).statusCode || "error"; } catch (_) { status = "error"; }
  }
  return [el("h2", {}, "Result"),
    el("dl", { class: "figures" },
      el("dt", {}, "Status"), el("dd", { id: "result-status", class: status === 200 ? "ok" : "bad" }, String(status)),
      el("dt", {}, "Duration"), el("dd", { id: "result-duration" }, r.Duration + " ms"),
      el("dt", {}, "Billed duration"), el("dd", { id: "result-billed" }, r.BillDuration + " ms"),
      el("dt", {}, "Memory"), el("dd", { id: "result-memory" }, bytes(r.MemUsage)),
      el("dt", {}, "Request id"), el("dd", {}, el("a", { id: "result-request-id", href: "#/log/" + encodeURIComponent(r.FunctionRequestId) }, r.FunctionRequestId))),
    el("h3", {}, "Returned"), el("pre", { id: "result-retmsg" }, r.RetMsg),
    el("h3", {}, "Log"), el("pre", { id: "result-log" }, r.Log)];
}

// ---- Logs ----

const RET_FILTERS = [["", "All"], ["is0", "Success"], ["not0", "Failure"], ["TimeLimitExceeded", "Timeout (433)"],
  ["ResourceLimitExceeded", "Resource limit (432/434)"], ["UserCodeException", "User code exception (430/443)"]];

async function logsPage(params) {
  if (!state.functions.length) state.functions = (await getJson("functions?Counts=false")).functions;
  const f = {
    fn: params.get("fn") || (state.functions[0] ? fnKey(state.functions[0]) : ""),
    filter: params.get("filter") || "", id: params.get("id") || "", start: params.get("start") || "",
    end: params.get("end") || "", orderBy: params.get("orderBy") || "start_time", order: params.get("order") || "desc",
    keyword: params.get("keyword") || "", offset: Number(params.get("offset") || 0),
  };
  const limit = 20;
  const fnSel = select("logs-function", functionOptions(false), f.fn);
  const filterSel = select("logs-filter", RET_FILTERS, f.filter);
  const idIn = el("input", { id: "logs-request-id", placeholder: "request id", value: f.id });
  const startIn = el("input", { id: "logs-start", type: "datetime-local", step: 1, value: f.start });
  const endIn = el("input", { id: "logs-end", type: "datetime-local", step: 1, value: f.end });
  const orderBySel = select("logs-order-by", [["start_time", "Start time"], ["duration", "Duration"], ["mem_usage", "Memory"]], f.orderBy);
  const orderSel = select("logs-order", [["desc", "Descending"], ["asc", "Ascending"]], f.order);
  const keywordIn = el("input", { id: "logs-keyword", placeholder: "keyword in the log", value: f.keyword });
  const go = (offset) => {
    const q = new URLSearchParams({ fn: fnSel.value, filter: filterSel.value, id: idIn.value.trim(), start: startIn.value,
      end: endIn.value, orderBy: orderBySel.value, order: orderSel.value, keyword: keywordIn.value, offset: String(offset) });
    location.hash = "#/logs?" + q.toString();
  };
  const table = el("tbody", {});
  const total = el("span", { id: "logs-total" });
  const prev = el("button", { id: "logs-prev", onclick: () => go(Math.max(0, f.offset - limit)), disabled: f.offset === 0 }, "Previous");
  const next = el("button", { id: "logs-next", onclick: () => go(f.offset + limit) }, "Next");
  view(el("h1", {}, "Logs"),
    el("form", { class: "card filters", id: "logs-form", onsubmit: (e) => { e.preventDefault(); go(0); } },
      el("label", {}, "Function ", fnSel), el("label", {}, "Outcome ", filterSel), idIn,
      el("label", {}, "From ", startIn), el("label", {}, "To ", endIn),
      el("label", {}, "Order by ", orderBySel), orderSel, keywordIn,
      el("button", { id: "logs-search", type: "submit" }, "Search")),
    el("table", { id: "logs-table" }, el("thead", {}, el("tr", {},
      ["Start time", "Request id", "Outcome", "Status", "Duration", "Billed", "Memory", "Returned", ""].map((h) => el("th", {}, h)))), table),
    el("div", { class: "pager" }, prev, total, next));
  if (!f.fn) { total.textContent = "no functions"; return; }
  const { namespace, name } = splitKey(f.fn);
  const params2 = { FunctionName: name, Namespace: namespace, Offset: f.offset, Limit: limit, Order: f.order, OrderBy: f.orderBy };
  if (f.filter) params2.Filter = { RetCode: f.filter };
  if (f.id) params2.FunctionRequestId = f.id;
  if (f.start) params2.StartTime = fromLocalInput(f.start);
  if (f.end) params2.EndTime = fromLocalInput(f.end);
  if (f.keyword) params2.SearchContext = { Keyword: f.keyword };
  try {
    const r = await action("GetFunctionLogs", params2);
    const atLeast = r.TotalCountIsLowerBound === true;
    total.textContent = `${atLeast ? "at least " : ""}${r.TotalCount} record(s), ${f.offset + 1}–${f.offset + r.Data.length}`;
    total.dataset.atLeast = String(atLeast);
    next.disabled = r.Data.length < limit || (!atLeast && f.offset + r.Data.length >= r.TotalCount);
    table.replaceChildren(...r.Data.map((d) => el("tr", { class: "log-row", "data-request-id": d.RequestId, "data-ret-code": d.RetCode },
      el("td", {}, d.StartTime), el("td", {}, el("code", {}, d.RequestId)),
      el("td", { class: d.RetCode === 0 ? "ok" : "bad" }, ["success", "failure", "running", "interrupted"][d.RetCode] || d.RetCode),
      el("td", {}, d.RetCode === 0 ? "200" : statusOf(d.RetMsg)),
      el("td", { class: "num" }, d.Duration + " ms"), el("td", { class: "num" }, d.BillDuration + " ms"),
      el("td", { class: "num" }, bytes(d.MemUsage)), el("td", { class: "retmsg" }, d.RetMsg.slice(0, 120)),
      el("td", {}, el("a", { class: "full-log", href: "#/log/" + encodeURIComponent(d.RequestId) }, "full log")))));
  } catch (e) { table.replaceChildren(el("tr", {}, el("td", { colspan: 9 }, errorBox(e)))); }
}

function statusOf(retMsg) {
  try { return String(JSON.parse(retMsg).statusCode || ""); } catch (_) { return ""; }
}

async function logPage(id) {
  view(el("h1", {}, "Log of ", el("code", {}, id)));
  try {
    const { attempts } = await getJson("request?RequestId=" + encodeURIComponent(id));
    document.getElementById("view").append(...attempts.map((a) => el("section", { class: "card attempt" },
      el("h2", {}, `${a.FunctionName} · attempt ${a.RetryNum} · ${a.StartTime} UTC`),
      el("dl", { class: "figures" }, el("dt", {}, "Status"), el("dd", {}, a.StatusCode), el("dt", {}, "Duration"), el("dd", {}, a.Duration + " ms"),
        el("dt", {}, "Billed"), el("dd", {}, a.BillDuration + " ms"), el("dt", {}, "Memory"), el("dd", {}, bytes(a.MemUsage)),
        el("dt", {}, "Node"), el("dd", {}, a.Node || "—")),
      el("h3", {}, "Returned"), el("pre", {}, a.RetMsg), el("h3", {}, "Log"), el("pre", { class: "full-log-text" }, a.Log))));
  } catch (e) { document.getElementById("view").append(errorBox(e)); }
}

// ---- Async events ----

async function asyncPage(params) {
  if (!state.functions.length) state.functions = (await getJson("functions?Counts=false")).functions;
  const fn = params.get("fn") || (state.functions[0] ? fnKey(state.functions[0]) : "");
  const status = params.get("status") || "";
  const fnSel = select("async-function", functionOptions(false), fn);
  const statusSel = select("async-status", [["", "All"], ["RUNNING", "Running or waiting"], ["FINISHED", "Finished"],
    ["FAILED", "Failed"], ["ABORTED", "Aborted"]], status);
  const go = () => { location.hash = "#/async?" + new URLSearchParams({ fn: fnSel.value, status: statusSel.value }); };
  const table = el("tbody", {});
  view(el("h1", {}, "Async events"),
    el("form", { class: "card filters", onsubmit: (e) => { e.preventDefault(); go(); } },
      el("label", {}, "Function ", fnSel), el("label", {}, "Status ", statusSel),
      el("button", { id: "async-search", type: "submit" }, "Search"),
      el("button", { id: "async-refresh", type: "button", onclick: () => asyncPage(params) }, "Refresh")),
    el("table", { id: "async-table" }, el("thead", {}, el("tr", {},
      ["Request id", "Status", "Invoke type", "Start time", "End time", ""].map((h) => el("th", {}, h)))), table));
  if (!fn) return;
  const { namespace, name } = splitKey(fn);
  const p = { FunctionName: name, Namespace: namespace, Limit: 100, Order: "DESC" };
  if (status) p.Status = [status];
  try {
    const r = await action("ListAsyncEvents", p);
    table.replaceChildren(...r.EventList.map((e) => el("tr", { class: "async-row", "data-request-id": e.InvokeRequestId, "data-status": e.Status },
      el("td", {}, el("a", { href: "#/log/" + encodeURIComponent(e.InvokeRequestId) }, e.InvokeRequestId)),
      el("td", { class: "status" }, e.Status), el("td", {}, e.InvokeType), el("td", {}, e.StartTime), el("td", {}, e.EndTime || "—"),
      el("td", {}, e.Status === "RUNNING" ? el("button", { class: "terminate", onclick: async () => {
        try { await action("TerminateAsyncEvent", { FunctionName: name, Namespace: namespace, InvokeRequestId: e.InvokeRequestId }); }
        catch (err) { alert(err.message); }
        asyncPage(params);
      } }, "Terminate") : ""))));
  } catch (e) { table.replaceChildren(el("tr", {}, el("td", { colspan: 6 }, errorBox(e)))); }
}

// ---- Monitoring (charts drawn by monitoring.js) ----

async function monitoringPage(params) {
  if (!state.functions.length) state.functions = (await getJson("functions?Counts=false")).functions;
  if (window.scfMonitoring) return window.scfMonitoring(params);
  view(el("h1", {}, "Monitoring"), el("p", {}, "Monitoring needs the store's per-minute aggregates."));
}

// ---- Routing ----

async function route() {
  const { path, params } = hashParams();
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.getAttribute("href") === "#/" + (parts[0] || "functions"));
  try {
    if (parts[0] === "function" && parts.length === 3) await functionPage(parts[1], parts[2]);
    else if (parts[0] === "logs") await logsPage(params);
    else if (parts[0] === "log" && parts[1]) await logPage(parts[1]);
    else if (parts[0] === "async") await asyncPage(params);
    else if (parts[0] === "monitoring") await monitoringPage(params);
    else await functionsPage();
    document.body.dataset.page = parts[0] || "functions";
  } catch (e) { view(errorBox(e)); }
}

async function start() {
  const session = await getJson("session");
  state.csrf = session.csrf;
  if (session.signIn) {
    document.getElementById("who").textContent = "signed in as " + session.secretId;
    const form = document.getElementById("logout-form");
    form.hidden = false;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      await fetch("/console/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": state.csrf } });
      location.href = "/console/login";
    });
  }
  window.addEventListener("hashchange", route);
  await route();
}

window.scf = { state, el, view, getJson, send, action, select, functionOptions, splitKey, fnKey, errorBox, bytes, apiTime };
document.addEventListener("DOMContentLoaded", start);
