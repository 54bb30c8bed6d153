// The live wall: queues, agents and sessions, each a sortable table, with one filter bar
// (text, queue, state). Durations tick from the rows' timestamps once a second.
import { h, nextId } from "../dom.js";
import { formatDuration } from "../format.js";
import { createTable } from "./table.js";

const STATE_TEXT = { queued: "Waiting", live: "Live", wrap_up: "Wrap-up" };
const PRESENCE_TEXT = { available: "Available", away: "Away", offline: "Offline" };

function since(ms, now) {
  return typeof ms === "number" ? formatDuration(now - ms) : "";
}

function ago(ms, now) {
  return typeof ms === "number" ? now - ms : null;
}

export function createWallView({ model, onOpen, onAgent }) {
  const clock = () => model.now();
  function agentAction(r, action, part, cls, label, off) {
    return h(
      "button",
      { type: "button", class: cls, "data-part": part, "aria-disabled": off ? "true" : null, onclick: () => off || onAgent(r, action) },
      label,
      h("span", { class: "sr-only", text: ` ${r.name}` }),
    );
  }
  const queues = createTable({
    caption: "Queues",
    part: "wall-queues",
    clock,
    emptyText: "No queues yet.",
    columns: [
      { key: "name", label: "Queue", text: (r) => r.id },
      { key: "waiting", label: "Waiting", text: (r) => String(r.waiting ?? 0), sort: (r) => r.waiting ?? 0 },
      { key: "longest", label: "Longest wait", ticks: true, text: (r, now) => since(r.oldest_queued_at, now), sort: (r, now) => ago(r.oldest_queued_at, now) },
      {
        key: "sl",
        label: `Service level`,
        text: (r) => (r.service_level == null ? "–" : `${Math.round(r.service_level * 100)}% (${r.within_target}/${r.answered_today})`),
        sort: (r) => r.service_level ?? -1,
      },
      { key: "serving", label: "Agents serving", text: (r) => String(r.agents_serving ?? 0), sort: (r) => r.agents_serving ?? 0 },
      { key: "free", label: "Free capacity", text: (r) => String(r.free_capacity ?? 0), sort: (r) => r.free_capacity ?? 0 },
    ],
  });
  const agents = createTable({
    caption: "Agents",
    part: "wall-agents",
    clock,
    emptyText: "No agents signed in.",
    rowLabel: (r) => `${r.name}, ${PRESENCE_TEXT[r.presence] || r.presence}`,
    columns: [
      { key: "name", label: "Agent", text: (r) => r.name || r.id },
      { key: "presence", label: "Presence", text: (r) => PRESENCE_TEXT[r.presence] || String(r.presence || "") },
      { key: "since", label: "For", ticks: true, text: (r, now) => since(r.since, now), sort: (r, now) => ago(r.since, now) },
      { key: "held", label: "Chats", text: (r) => `${r.held}/${r.capacity}`, sort: (r) => r.held },
      { key: "queues", label: "Queues", text: (r) => (Array.isArray(r.skills) && r.skills.includes("*") ? "all" : (r.skills || []).join(", ")) },
      {
        key: "reply",
        label: "Since last reply",
        ticks: true,
        text: (r, now) => lastReplies(r, now),
      },
    ],
    // aria-disabled, not disabled: a redrawn row keeps keyboard focus on the same button
    // (table.js) even when that button no longer applies, e.g. right after a sign-out
    rowActions: (r) => [
      agentAction(r, "away", "agent-away", "btn btn--small", "Set away", r.presence !== "available"),
      agentAction(r, "sign_out", "agent-signout", "btn btn--small btn--danger", "Sign out", r.presence === "offline" && !r.held),
    ],
  });
  const sessions = createTable({
    caption: "Sessions",
    part: "wall-sessions",
    clock,
    emptyText: "Nobody is waiting or chatting.",
    rowLabel: (r) => `${r.customer}, ${STATE_TEXT[r.state] || r.state}, ${r.queue}`,
    columns: [
      { key: "customer", label: "Customer", text: (r) => String(r.customer || "") },
      { key: "state", label: "State", text: (r) => (STATE_TEXT[r.state] || r.state) + (r.priority ? " (first in line)" : "") },
      { key: "queue", label: "Queue", text: (r) => String(r.queue || "") },
      {
        key: "time",
        label: "Wait / handle time",
        ticks: true,
        text: (r, now) => since(r.state === "queued" ? r.queued_at : r.accepted_at, now),
        sort: (r, now) => ago(r.state === "queued" ? r.queued_at : r.accepted_at, now),
      },
      { key: "agent", label: "Agent", text: (r) => (r.agent ? r.agent.name || r.agent.id : "") },
      { key: "reply", label: "Last reply", ticks: true, text: (r, now) => since(r.last_reply_at, now), sort: (r, now) => ago(r.last_reply_at, now) },
      { key: "media", label: "Call / co-browse", text: (r) => [r.call ? "call" : "", r.cobrowse ? "co-browse" : ""].filter(Boolean).join(", ") },
      { key: "reason", label: "Why", text: (r) => String(r.reason || "") },
    ],
    rowActions: (r) => [
      h("button", { type: "button", class: "btn btn--small", "data-part": "session-open", onclick: () => onOpen(r.id) }, "Open", h("span", { class: "sr-only", text: ` ${r.customer}` })),
    ],
  });

  function lastReplies(agent, now) {
    const ids = Array.isArray(agent.sessions) ? agent.sessions : [];
    return ids
      .map((id) => model.get(`s:${id}`))
      .filter((s) => s && s.state === "live")
      .map((s) => `${s.customer}: ${s.last_reply_at ? since(s.last_reply_at, now) : "no reply yet"}`)
      .join("; ");
  }

  // the filter bar
  const textId = nextId("wall-filter");
  const queueId = nextId("wall-queue");
  const stateId = nextId("wall-state");
  const text = h("input", { id: textId, type: "search", class: "field", "data-part": "wall-filter", placeholder: "Customer, agent or queue" });
  const queue = h("select", { id: queueId, class: "field", "data-part": "wall-queue-filter" }, h("option", { value: "", text: "All queues" }));
  const state = h(
    "select",
    { id: stateId, class: "field", "data-part": "wall-state-filter" },
    h("option", { value: "", text: "Every state" }),
    ...Object.entries(STATE_TEXT).map(([value, label]) => h("option", { value, text: label })),
  );
  const bar = h(
    "div",
    { class: "wall__filters", role: "search", "aria-label": "Filter the wall" },
    h("label", { for: textId, class: "label", text: "Filter" }),
    text,
    h("label", { for: queueId, class: "label", text: "Queue" }),
    queue,
    h("label", { for: stateId, class: "label", text: "State" }),
    state,
  );

  function applyFilters() {
    const needle = text.value.trim().toLowerCase();
    const q = queue.value;
    const st = state.value;
    const matches = (...values) => !needle || values.some((v) => String(v || "").toLowerCase().includes(needle));
    sessions.setFilter((r) => (!q || r.queue === q) && (!st || r.state === st) && matches(r.customer, r.queue, r.agent && r.agent.name, r.reason));
    agents.setFilter((r) => (!q || (r.skills || []).includes(q) || (r.skills || []).includes("*")) && matches(r.name, r.id, ...(r.skills || [])));
    queues.setFilter((r) => (!q || r.id === q) && matches(r.id));
  }
  for (const control of [text, queue, state]) control.addEventListener("input", applyFilters);

  function syncQueueOptions() {
    const names = model.of("queue").map((r) => r.id).sort();
    const have = [...queue.options].slice(1).map((o) => o.value);
    if (names.join() === have.join()) return;
    const chosen = queue.value;
    queue.replaceChildren(h("option", { value: "", text: "All queues" }), ...names.map((n) => h("option", { value: n, text: n })));
    queue.value = names.includes(chosen) ? chosen : "";
  }

  const offRows = model.on("rows", (kinds) => {
    if (kinds.has("queue")) {
      queues.setRows(model.of("queue"));
      syncQueueOptions();
    }
    if (kinds.has("agent") || kinds.has("session")) agents.setRows(model.of("agent"));
    if (kinds.has("session")) sessions.setRows(model.of("session"));
  });
  const timer = setInterval(() => {
    queues.tick();
    agents.tick();
    sessions.tick();
  }, 1000);

  const el = h(
    "section",
    { class: "wall", "aria-label": "Live wall", "data-part": "wall", tabindex: "-1" },
    bar,
    queues.el,
    agents.el,
    sessions.el,
  );

  // focus the Open button of a session's row (after Stop observing), or the wall itself
  // when the session has left it
  function focusAction(key, part) {
    const button = el.querySelector(`tr[data-key="${CSS.escape(key)}"] [data-part="${part}"]`);
    (button || el).focus();
  }
  const focusSession = (id) => focusAction(`s:${id}`, "session-open");

  return {
    el,
    focusSession,
    focusAction,
    destroy() {
      offRows();
      clearInterval(timer);
      el.remove();
    },
  };
}
