// The supervisor's Reports view: a period (and optionally a queue, an agent), the figures
// as tiles, charts (volumes over time, the journey funnel, escalation reasons, when
// customers abandon, CSAT) with each chart's numbers in a table beside it, per-queue and
// per-agent tables, CSAT comments, and the same report as a CSV download.
import { h, replace, setText, show } from "../dom.js";
import { fetchReport, fetchReportCsv } from "./api.js";

// Chart.js (~170 KB) is a chunk of its own (widget/build.mjs: /console/dcs-charts-HASH.js,
// served immutable from the console's origin, so the CSP's script-src 'self' allows it),
// imported the first time the Reports view loads a report, side by side with the report.
/* global __DCS_CONSOLE_CHUNKS__ */
const CHUNKS = typeof __DCS_CONSOLE_CHUNKS__ === "object" ? __DCS_CONSOLE_CHUNKS__ : { charts: "dcs-charts.js" };
// the console script's own address (only known while it runs first): the chunks sit beside it
const SCRIPT_BASE = (typeof document !== "undefined" && document.currentScript && document.currentScript.src) || "";
let chartsModule = null;

function loadCharts() {
  if (!chartsModule) {
    const base = SCRIPT_BASE || new URL("/console/", window.location.href).href;
    chartsModule = import(/* webpackIgnore: true */ new URL(CHUNKS.charts, base).href).catch((err) => {
      chartsModule = null; // a failed fetch is tried again with the next report
      throw err;
    });
  }
  return chartsModule;
}

const DAY_MS = 86400000;
const PRESETS = [
  ["1", "Today"],
  ["7", "Last 7 days"],
  ["30", "Last 30 days"],
  ["90", "Last 90 days"],
];

function pct(value) {
  return value == null ? "–" : `${Math.round(value * 1000) / 10}%`;
}

function secs(value) {
  if (value == null) return "–";
  if (value < 90) return `${Math.round(value)} s`;
  if (value < 5400) return `${Math.round(value / 6) / 10} min`;
  return `${Math.round(value / 360) / 10} h`;
}

function num(value) {
  return value == null ? "–" : String(value);
}

function dayStart(ms) {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function isoDate(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

function bucketLabel(ms, bucket) {
  const iso = new Date(ms).toISOString();
  return bucket === "hour" ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
}

function table(caption, head, rows) {
  return h(
    "table",
    { class: "reports__table" },
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, head.map((cell) => h("th", { scope: "col", text: cell })))),
    h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell, i) => (i === 0 ? h("th", { scope: "row", text: cell }) : h("td", { text: cell })))))),
  );
}

export function createReportsView({ getToken, notify = () => {} }) {
  const today = dayStart(Date.now());
  const since = h("input", { type: "date", part: "since", value: isoDate(today - 6 * DAY_MS) });
  const until = h("input", { type: "date", part: "until", value: isoDate(today) });
  const queue = h("select", { part: "queue" }, h("option", { value: "", text: "All queues" }));
  const agent = h("select", { part: "agent" }, h("option", { value: "", text: "All agents" }));
  const bucket = h("select", { part: "bucket" }, h("option", { value: "day", text: "Per day" }), h("option", { value: "hour", text: "Per hour" }));
  const status = h("p", { class: "reports__status", role: "status", part: "status" });
  const label = (text, control) => h("label", { class: "reports__field" }, h("span", { text }), control);
  const presets = PRESETS.map(([days, text]) =>
    h("button", {
      type: "button",
      class: "btn btn--quiet",
      "data-days": days,
      text,
      onclick: () => {
        since.value = isoDate(today - (Number(days) - 1) * DAY_MS);
        until.value = isoDate(today);
        load();
      },
    }),
  );
  const form = h(
    "form",
    {
      class: "reports__pickers",
      part: "pickers",
      onsubmit: (ev) => {
        ev.preventDefault();
        load();
      },
    },
    label("From", since),
    label("To", until),
    label("Queue", queue),
    label("Agent", agent),
    label("Volumes", bucket),
    h("button", { type: "submit", class: "btn", part: "apply", text: "Show" }),
    h("button", { type: "button", class: "btn btn--quiet", part: "csv", text: "Download CSV", onclick: () => download() }),
    h("span", { class: "reports__presets" }, presets),
  );
  const tiles = h("div", { class: "reports__tiles", part: "tiles" });
  const sections = {};
  const charts = {};
  const grid = h("div", { class: "reports__grid" });
  for (const [key, title] of [
    ["volumes", "Volumes over time"],
    ["funnel", "Journey: assistant → queue → agent → resolved"],
    ["reasons", "Escalation reasons"],
    ["abandonment", "When customers abandon (time waited)"],
    ["csat", "CSAT ratings"],
  ]) {
    const canvas = h("canvas", { role: "img", "aria-label": title, part: `chart-${key}` });
    const data = h("details", { class: "reports__data" }, h("summary", { text: "The numbers" }));
    const section = h("section", { class: "reports__chart", part: `section-${key}` }, h("h3", { text: title }), h("div", { class: "reports__canvas" }, canvas), data);
    sections[key] = { section, canvas, data };
    grid.append(section);
  }
  const details = h("div", { class: "reports__details", part: "details" });
  const el = h("section", { class: "reports", part: "reports", "aria-label": "Reports" }, h("h2", { class: "reports__title", text: "Reports" }), form, status, tiles, grid, details);

  let loading = 0;
  let current = null;

  function params() {
    const from = Date.parse(`${since.value}T00:00:00Z`);
    const to = Date.parse(`${until.value}T00:00:00Z`) + DAY_MS; // the "To" day is included
    return {
      since: Number.isFinite(from) ? new Date(from).toISOString() : "",
      until: Number.isFinite(to) ? new Date(to).toISOString() : "",
      queue: queue.value,
      agent_id: agent.value,
      bucket: bucket.value,
    };
  }

  let createChart = null; // from the charts chunk, once loaded

  function ensureChart(key) {
    if (!charts[key]) charts[key] = createChart(sections[key].canvas, key);
    return charts[key];
  }

  // queues and agents seen in a report join the pickers (the first option is "all")
  function fillOptions(select, values) {
    const chosen = select.value;
    const known = new Set([...select.options].map((o) => o.value));
    for (const [value, text] of values) {
      if (!known.has(value)) select.append(h("option", { value, text }));
    }
    select.value = chosen;
  }

  function render(report) {
    current = report;
    const t = report.totals;
    replace(
      tiles,
      [
        ["sessions", "Sessions", num(t.sessions)],
        ["containment", "Contained by the assistant", pct(t.containment_rate)],
        ["escalation", "Escalated", pct(t.escalation_rate)],
        ["abandonment", "Abandoned in the queue", pct(t.abandonment_rate)],
        ["service_level", `Service level (≤ ${t.service_level_s} s)`, pct(t.service_level)],
        ["wait", "Wait p50 / p90", `${secs(report.wait.p50)} / ${secs(report.wait.p90)}`],
        ["first_response", "First response (avg)", secs(report.first_response.avg)],
        ["handle", "Handle time (avg)", secs(report.handle.avg)],
        ["transfers", "Transfers", num(t.transfers)],
        ["csat", "CSAT average", report.csat.average == null ? "–" : `${report.csat.average} / 5 (${report.csat.count})`],
      ].map(([key, text, value]) => h("div", { class: "reports__tile", "data-tile": key }, h("span", { class: "reports__tile-label", text }), h("strong", { class: "reports__tile-value", text: value }))),
    );
    const labels = report.volumes.map((v) => bucketLabel(v.start, report.bucket));
    ensureChart("volumes").update(labels, [
      { key: "total", label: "Sessions", data: report.volumes.map((v) => v.sessions) },
      { key: "contained", label: "Contained", data: report.volumes.map((v) => v.contained) },
      { key: "escalated", label: "Escalated", data: report.volumes.map((v) => v.escalated) },
      { key: "abandoned", label: "Abandoned", data: report.volumes.map((v) => v.abandoned) },
    ]);
    const funnelNames = { assistant: "Assistant", queue: "Queue", agent: "Agent", resolved: "Resolved" };
    ensureChart("funnel").update(report.funnel.map((f) => funnelNames[f.step]), [{ label: "Sessions", data: report.funnel.map((f) => f.count) }]);
    ensureChart("reasons").update(report.escalation_reasons.map((r) => r.reason || "(none)"), [{ label: "Escalations", data: report.escalation_reasons.map((r) => r.count) }]);
    ensureChart("abandonment").update(report.abandonment.map((b) => b.label), [{ label: "Abandoned", data: report.abandonment.map((b) => b.count) }]);
    const scores = ["1", "2", "3", "4", "5"];
    ensureChart("csat").update(scores.map((s) => `${s} ★`), [{ label: "Ratings", data: scores.map((s) => report.csat.distribution[s] || 0) }]);

    const dataTables = {
      volumes: table("Volumes", ["Period", "Sessions", "Contained", "Escalated", "Abandoned"], report.volumes.filter((v) => v.sessions).map((v) => [bucketLabel(v.start, report.bucket), v.sessions, v.contained, v.escalated, v.abandoned])),
      funnel: table("Funnel", ["Step", "Sessions", "Lost on the way"], report.funnel.map((f) => [funnelNames[f.step], f.count, f.drop])),
      reasons: table("Escalation reasons", ["Reason", "Escalations"], report.escalation_reasons.map((r) => [r.reason || "(none)", r.count])),
      abandonment: table("Abandonment", ["Waited", "Abandoned"], report.abandonment.map((b) => [b.label, b.count])),
      csat: table("CSAT", ["Score", "Ratings"], scores.map((s) => [s, report.csat.distribution[s] || 0])),
    };
    for (const [key, node] of Object.entries(dataTables)) {
      const { data } = sections[key];
      replace(data, h("summary", { text: "The numbers" }), node);
    }
    replace(
      details,
      table("Per queue", ["Queue", "Escalated", "Answered", "Abandoned", "Avg wait", "Service level"], report.by_queue.map((q) => [q.queue, q.escalated, q.answered, q.abandoned, secs(q.avg_wait_s), pct(q.service_level)])),
      table("Per agent", ["Agent", "Handled", "Avg first response", "Avg handle time", "CSAT"], report.by_agent.map((a) => [a.agent_name, a.handled, secs(a.avg_first_response_s), secs(a.avg_handle_s), a.csat_average == null ? "–" : a.csat_average])),
      h(
        "section",
        { class: "reports__comments", part: "comments" },
        h("h3", { text: "CSAT comments" }),
        report.csat.comments.length
          ? h("ul", {}, report.csat.comments.map((c) => h("li", {}, h("strong", { text: `${c.score} ★ ` }), h("span", { text: c.comment }))))
          : h("p", { class: "reports__empty", text: "No comments in this period." }),
      ),
    );
    fillOptions(queue, report.by_queue.map((q) => [q.queue, q.queue]));
    fillOptions(agent, report.by_agent.map((a) => [a.agent_id, a.agent_name]));
    window.__dcsReports = { report, charts: Object.fromEntries(Object.entries(charts).map(([k, c]) => [k, c.chart])) };
    el.setAttribute("data-loaded", "true");
  }

  async function load() {
    const mine = ++loading;
    setText(status, "Loading…");
    el.setAttribute("aria-busy", "true");
    try {
      const [report, module] = await Promise.all([fetchReport(getToken, params()), loadCharts()]);
      if (mine !== loading) return;
      createChart = module.createChart;
      render(report);
      setText(status, `${report.totals.sessions} sessions from ${isoDate(report.since)} to ${isoDate(report.until - 1)}.`);
    } catch (err) {
      if (mine === loading) setText(status, err.message || "Could not load the report.");
    } finally {
      if (mine === loading) el.removeAttribute("aria-busy");
    }
  }

  async function download() {
    try {
      const blob = await fetchReportCsv(getToken, params());
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: `dcs-report-${since.value}-${until.value}.csv`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      notify(err.message || "Could not download the CSV.");
    }
  }

  return {
    el,
    show(visible) {
      show(el, visible);
      if (visible && !current) load();
    },
    load,
    destroy() {
      for (const chart of Object.values(charts)) chart.destroy();
      el.remove();
    },
  };
}
