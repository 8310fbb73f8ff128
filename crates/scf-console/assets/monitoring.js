// The Monitoring page (charts drawn by uPlot from /console/api/metrics) and the saved test
// events of the Function page (/console/api/events), on the store's console queries.
"use strict";

(function () {
  const { state, el, view, getJson, send, select, functionOptions, splitKey, errorBox } = window.scf;

  const RANGES = [["15", "Last 15 minutes"], ["60", "Last hour"], ["360", "Last 6 hours"], ["1440", "Last 24 hours"], ["10080", "Last 7 days"]];

  const CHARTS = [
    { id: "chart-invocations", title: "Invocations and errors", series: [
      ["invocations", "Invocations", "#006eff"], ["errors", "Errors", "#c4281c"], ["s432", "432 resource limit", "#d97706"],
      ["s433", "433 timeout", "#7c3aed"], ["s434", "434 memory limit", "#db2777"]] },
    { id: "chart-duration", title: "Duration (ms)", series: [["p50", "p50", "#0a7d32"], ["p95", "p95", "#d97706"], ["p99", "p99", "#c4281c"]] },
    { id: "chart-memory", title: "Peak memory used (MB)", series: [["memMb", "Peak memory", "#006eff"], ["limitMb", "Limit", "#94a3b8"]] },
    { id: "chart-concurrency", title: "Concurrent executions (mean over the minute)", series: [["concurrency", "Concurrency", "#0891b2"]] },
    { id: "chart-throttles", title: "Throttles (432: refused by the concurrency limit)", series: [["throttles", "Throttles", "#d97706"]] },
  ];

  async function monitoring(params) {
    const fn = params.get("fn") || "";
    const minutes = params.get("minutes") || "60";
    const fnSel = select("mon-function", functionOptions(true).map(([v, l]) => [v, v ? l : "(the whole deployment)"]), fn);
    const rangeSel = select("mon-range", RANGES, minutes);
    const go = () => { location.hash = "#/monitoring?" + new URLSearchParams({ fn: fnSel.value, minutes: rangeSel.value }); };
    fnSel.addEventListener("change", go);
    rangeSel.addEventListener("change", go);
    const grid = el("div", { class: "charts" });
    const summary = el("p", { id: "mon-summary" });
    view(el("h1", {}, "Monitoring"),
      el("div", { class: "card filters" }, el("label", {}, "Function ", fnSel), el("label", {}, "Range ", rangeSel),
        el("button", { id: "mon-refresh", type: "button", onclick: () => monitoring(params) }, "Refresh")),
      summary, grid);
    let q = "Minutes=" + encodeURIComponent(minutes);
    let namespace = "default";
    if (fn) {
      const k = splitKey(fn);
      namespace = k.namespace;
      q += "&Namespace=" + encodeURIComponent(k.namespace) + "&FunctionName=" + encodeURIComponent(k.name);
    }
    let data;
    try { data = await getJson("metrics?" + q); } catch (e) { grid.replaceChildren(errorBox(e)); return; }
    const rows = data.minutes;
    const xs = rows.map((r) => r.t);
    const total = rows.reduce((a, r) => a + r.invocations, 0);
    const errors = rows.reduce((a, r) => a + r.errors, 0);
    summary.textContent = `${total} invocation(s), ${errors} error(s) in ${namespace}${fn ? "/" + splitKey(fn).name : ""} over the last ${minutes} minute(s)`;
    summary.dataset.invocations = String(total);
    summary.dataset.errors = String(errors);
    for (const c of CHARTS) {
      const box = el("div", { class: "card chart", id: c.id });
      grid.append(box);
      box.append(el("h2", {}, c.title));
      const series = c.series.filter(([k]) => k !== "limitMb" || data.memoryLimitMb);
      const ys = series.map(([k]) => rows.map((r) => (k === "limitMb" ? data.memoryLimitMb : r[k])));
      box.dataset.points = String(ys[0].filter((v) => v !== null && v !== 0).length);
      box.dataset.total = String(ys[0].reduce((a, v) => a + (v || 0), 0));
      const width = Math.max(420, box.clientWidth - 32);
      const plot = new uPlot({
        width, height: 220,
        scales: { x: { time: true } },
        series: [{}, ...series.map(([, label, stroke]) => ({ label, stroke, width: 2, spanGaps: false, points: { show: rows.length <= 120 } }))],
        axes: [{}, { size: 60 }],
      }, [xs, ...ys], box);
      state.charts.push(plot);
    }
  }

  // The saved test events of a function, under its event editor.
  async function savedEvents(box, namespace, name, editor, check) {
    const list = el("span", { id: "saved-list" });
    const nameIn = el("input", { id: "saved-name", placeholder: "name to save as", maxlength: 64 });
    const message = el("span", { id: "saved-message" });
    async function refresh() {
      try {
        const { events } = await getJson(`events?Namespace=${encodeURIComponent(namespace)}&FunctionName=${encodeURIComponent(name)}`);
        list.replaceChildren(...events.map((e) => el("span", { class: "saved-event", "data-name": e.name },
          el("button", { type: "button", class: "secondary load-event", onclick: () => { editor.value = e.event; check(); nameIn.value = e.name; } }, e.name),
          el("button", { type: "button", class: "secondary delete-event", title: "delete " + e.name, onclick: async () => {
            await send("POST", "events/delete", { Namespace: namespace, FunctionName: name, Name: e.name }); refresh();
          } }, "×"))));
        if (!events.length) list.textContent = "none yet";
      } catch (e) { list.replaceChildren(errorBox(e)); }
    }
    async function save() {
      if (!check()) return;
      try {
        await send("POST", "events", { Namespace: namespace, FunctionName: name, Name: nameIn.value.trim(), Event: editor.value });
        message.textContent = "saved";
        refresh();
      } catch (e) { message.textContent = e.message; }
    }
    box.replaceChildren(el("div", { class: "row" }, el("strong", {}, "Saved events (up to 5): "), list),
      el("div", { class: "row" }, nameIn, el("button", { type: "button", id: "save-event", onclick: save }, "Save event"), message));
    refresh();
  }

  window.scfMonitoring = monitoring;
  window.scfSavedEvents = savedEvents;
})();
