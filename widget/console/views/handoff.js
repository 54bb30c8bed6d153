// The context panel (a region labelled "Context") for the selected session: who the
// customer is (verified attributes), why they asked for a person, where they are and have
// been on the site, what the assistant understood, and when they queued / were accepted.
import { h, nextId, replace } from "../dom.js";
import { customerLabel, displayValue, formatClock, formatDuration, isoTime, safeHttpUrl, stateLabel } from "../format.js";

const MAX_PAGES = 25;

function dl(part, pairs, emptyText) {
  const rows = pairs.filter(([, value]) => value !== undefined);
  if (!rows.length) return h("p", { part, class: "ctx__none", text: emptyText });
  return h(
    "dl",
    { part, class: "kv" },
    rows.map(([key, value]) => h("div", { class: "kv__row" }, h("dt", { text: key }), h("dd", {}, value))),
  );
}

function urlNode(url) {
  const safe = safeHttpUrl(url);
  if (!safe) return h("span", { class: "ctx__url", text: url });
  return h("a", { class: "ctx__url", href: safe, target: "_blank", rel: "noopener noreferrer", text: url });
}

function timeNode(ms) {
  if (ms == null) return "—";
  return h("time", { datetime: isoTime(ms), text: formatClock(ms) });
}

function section(title, ...content) {
  return h("section", { class: "ctx__section" }, h("h3", { class: "ctx__title", text: title }), content);
}

function renderCustomer(entry) {
  const { customer, session } = entry;
  const name = customerLabel(customer);
  return h(
    "div",
    { part: "handoff-customer", class: "ctx__customer" },
    h("p", { class: "ctx__name", text: name }),
    customer.id && customer.id !== name ? h("p", { class: "ctx__id" }, h("span", { class: "sr-only", text: "Customer id: " }), customer.id) : null,
    h("p", { class: "ctx__state" }, h("span", { class: "pill", "data-state": session.state, text: stateLabel(session.state) }), session.queue ? h("span", { class: "tag", text: session.queue }) : null),
  );
}

function renderAttributes(attributes) {
  const pairs = Object.entries(attributes).map(([key, value]) => [key, displayValue(value)]);
  return dl("handoff-attributes", pairs, "No verified attributes.");
}

function renderPage(page) {
  if (!page.url && !page.title) return h("p", { part: "handoff-page", class: "ctx__none", text: "Unknown" });
  return h(
    "div",
    { part: "handoff-page", class: "ctx__page" },
    page.title ? h("p", { class: "ctx__page-title", text: page.title }) : null,
    page.url ? h("p", {}, urlNode(page.url)) : null,
  );
}

function renderPages(pages) {
  if (!pages.length) return h("p", { class: "ctx__none", text: "No page views recorded." });
  const shown = pages.slice(-MAX_PAGES);
  return h(
    "div",
    {},
    pages.length > shown.length ? h("p", { class: "ctx__note", text: `${pages.length - shown.length} earlier pages not shown.` }) : null,
    h(
      "ol",
      { class: "pages" },
      shown.map((p) =>
        h(
          "li",
          { class: "pages__item" },
          h("span", { class: "pages__title", text: p.title || p.url || "Untitled" }),
          p.ts != null ? h("span", { class: "pages__time" }, timeNode(p.ts)) : null,
          p.url ? h("span", { class: "pages__url" }, urlNode(p.url)) : null,
        ),
      ),
    ),
  );
}

function renderUnderstanding(u) {
  if (!u) return h("p", { part: "handoff-understanding", class: "ctx__none", text: "Nothing recorded." });
  const slots = Object.entries(u.slots);
  const unanswered = u.unanswered || [];
  const pairs = [
    // what it could not answer says more than the last intent it happened to match
    ...(unanswered.length ? [["Could not answer", h("ul", { class: "kv__list" }, unanswered.map((q) => h("li", { text: `“${q}”` })))]] : []),
    ["Intent", u.intent || "—"],
    ["Confidence", u.confidence == null ? "—" : `${Math.round(u.confidence * 100)}%`],
    [
      "Details",
      slots.length
        ? h("dl", { class: "kv kv--nested" }, slots.map(([k, v]) => h("div", { class: "kv__row" }, h("dt", { text: k }), h("dd", { text: displayValue(v) }))))
        : "—",
    ],
    ["Not understood", `${u.unmatched} ${u.unmatched === 1 ? "message" : "messages"}`],
  ];
  return dl("handoff-understanding", pairs, "Nothing recorded.");
}

function renderTimes(entry) {
  const pairs = [
    ["Queued", timeNode(entry.queuedAt)],
    ["Accepted", timeNode(entry.acceptedAt)],
  ];
  if (entry.queuedAt != null && entry.acceptedAt != null) {
    pairs.push(["Waited", formatDuration(entry.acceptedAt - entry.queuedAt)]);
  }
  return dl(null, pairs, "");
}

// notes other systems (a CRM, the order system) added through the REST API
function renderExternalNotes(notes) {
  if (!notes.length) return null;
  return section(
    "Notes from other systems",
    h(
      "ul",
      { part: "handoff-external-notes", class: "ctx__notes" },
      notes.map((n) => h("li", { class: "ctx__note-item" }, h("p", { text: n.text }), h("p", { class: "ctx__note-by" }, `${n.author || "API"} · `, timeNode(n.ts)))),
    ),
  );
}

function renderCsat(csat) {
  if (!csat || csat.score == null) return null;
  return section(
    "Customer rating",
    h("p", { class: "ctx__csat", text: `${csat.score} / 5` }),
    csat.comment ? h("p", { class: "ctx__csat-comment", text: csat.comment }) : null,
  );
}

export function createHandoff({ store }) {
  const titleId = nextId("ctx-title");
  const body = h("div", { class: "ctx__body" });
  const el = h(
    "section",
    { part: "handoff", class: "context", "aria-labelledby": titleId },
    h("h2", { id: titleId, class: "panel__title", text: "Context" }),
    body,
  );
  let shownKey = null;

  function render() {
    const entry = store.selected;
    // rebuild only when something shown changed (keeps focus on a link, for instance)
    const key = entry
      ? JSON.stringify([entry.id, entry.session, entry.customer, entry.reason, entry.page, entry.pages, entry.understanding, entry.externalNotes, entry.queuedAt, entry.acceptedAt])
      : "";
    if (key === shownKey) return;
    shownKey = key;
    if (!entry) {
      replace(body, h("p", { class: "panel__empty", text: "Select a session to see who the customer is and what happened so far." }));
      return;
    }
    replace(
      body,
      renderCustomer(entry),
      renderExternalNotes(entry.externalNotes),
      section("Verified attributes", renderAttributes(entry.customer.attributes)),
      section("Reason for escalation", h("p", { part: "handoff-reason", class: "ctx__reason", text: entry.reason || "Not given" })),
      section("Current page", renderPage(entry.page)),
      section("Pages visited", renderPages(entry.pages)),
      section("What the assistant understood", renderUnderstanding(entry.understanding)),
      section("Timeline", renderTimes(entry)),
      renderCsat(entry.session.csat),
    );
  }

  const offs = [
    store.on("selected", render),
    store.on("session", (id) => {
      if (id === store.selectedId) render();
    }),
  ];
  render();

  return {
    el,
    destroy() {
      offs.forEach((off) => off());
    },
  };
}
