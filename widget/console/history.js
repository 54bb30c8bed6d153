// Past conversations in the console's context column (docs/protocol.md, "History"): the
// selected customer's previous conversations (history.customer), and a search over past
// sessions by text, customer, agent and date (history.search), each opening its transcript
// (history.transcript) in place, files included. Every read is audited on the server.
import { h, nextId, replace } from "./dom.js";
import { Event } from "../src/protocol.js";
import { adoptCss, createLinks, showFile } from "./files.js";
import { formatClock, isoTime, stateLabel } from "./format.js";

const CSS = `
.history{border-top:1px solid #d6dbe4;margin-top:12px;padding-top:10px}
.history__list{list-style:none;margin:6px 0;padding:0;display:flex;flex-direction:column;gap:6px}
.history__item button{width:100%;text-align:start;display:flex;flex-direction:column;gap:2px}
.history__meta{font-size:12px;color:#4d5566}
.history__form{display:grid;grid-template-columns:1fr 1fr;gap:6px;align-items:end}
.history__form label{display:flex;flex-direction:column;font-size:12.5px;gap:2px}
.history__form .history__wide{grid-column:1 / -1}
.history__transcript{list-style:none;margin:6px 0;padding:0;display:flex;flex-direction:column;gap:6px;max-height:50vh;overflow:auto}
.history__transcript li{font-size:13.5px}
.history__who{font-weight:600;margin-inline-end:4px}
`;

function summaryButton(row, onOpen) {
  const when = row.created_at ? formatClock(row.created_at) : "";
  const who = row.customer.name || row.customer.id;
  return h(
    "li",
    { class: "history__item" },
    h(
      "button",
      { type: "button", class: "btn btn--ghost", onclick: () => onOpen(row) },
      h("span", { text: row.first_message || "(no message)" }),
      h(
        "span",
        { class: "history__meta" },
        h("time", { datetime: isoTime(row.created_at), text: when }),
        ` · ${who} · ${row.agent ? row.agent.name : "no agent"} · ${row.queue} · ${stateLabel(row.state)}`,
      ),
    ),
  );
}

const ms = (value) => (value ? new Date(`${value}T00:00:00`).getTime() : null);

// store: the agent workspace's (for the selected customer's earlier conversations); null
// on the supervisor floor, which has the search alone
export function createHistory({ conn, store = null }) {
  adoptCss(CSS);
  const link = createLinks(conn);
  const headingId = nextId("history-title");
  const status = h("p", { class: "history__status", role: "status", "aria-live": "polite" });
  const previous = h("ul", { part: "history-previous", class: "history__list" });
  const previousNone = h("p", { class: "ctx__none", text: "No earlier conversations.", hidden: true });
  const results = h("ul", { part: "history-results", class: "history__list" });
  const transcript = h("div", { part: "history-transcript", class: "history__view", hidden: true });
  const field = (label, input, wide = false) => h("label", { class: wide ? "history__wide" : "" }, label, input);
  const text = h("input", { type: "search", name: "text", class: "field", maxlength: "300" });
  const customer = h("input", { type: "text", name: "customer", class: "field", maxlength: "300" });
  const agent = h("input", { type: "text", name: "agent", class: "field", maxlength: "300" });
  const since = h("input", { type: "date", name: "since", class: "field" });
  const until = h("input", { type: "date", name: "until", class: "field" });
  const form = h(
    "form",
    { part: "history-search", class: "history__form", role: "search", "aria-label": "Search past conversations" },
    field("Words in the conversation", text, true),
    field("Customer", customer),
    field("Agent", agent),
    field("From", since),
    field("To", until),
    h("button", { type: "submit", class: "btn btn--primary btn--small history__wide" }, "Search"),
  );
  const lists = h(
    "div",
    {},
    store ? [h("h4", { class: "ctx__title", text: "Previous conversations" }), previous, previousNone] : null,
    h("h4", { class: "ctx__title", text: "Search past conversations" }),
    form,
    results,
  );
  const el = h(
    "section",
    { part: "history", class: "history ctx__section", "aria-labelledby": headingId },
    h("h3", { id: headingId, class: "ctx__title", text: "History" }),
    status,
    lists,
    transcript,
  );
  let shownFor = null;
  let back = null;

  async function open(row) {
    status.textContent = "Loading the conversation…";
    const ack = await conn.request(Event.HISTORY_TRANSCRIPT, { session_id: row.session_id });
    if (!ack.ok) {
      status.textContent = `The conversation could not be opened: ${ack.error.message}`;
      return;
    }
    status.textContent = "";
    const items = ack.messages.map((m) => {
      const li = h("li", { "data-seq": String(m.seq) }, h("span", { class: "history__who", text: `${m.sender.name || m.sender.role}:` }), h("span", { class: "msg__text", text: m.text }));
      if (m.attachment) showFile(li, m, link);
      return li;
    });
    const title = h("h4", { class: "ctx__title", tabindex: "-1", text: `Conversation of ${formatClock(ack.session.created_at)} with ${ack.session.customer.name || ack.session.customer.id}` });
    back = h("button", { type: "button", class: "btn btn--small", onclick: close }, "Back to the lists");
    replace(transcript, back, title, h("ol", { class: "history__transcript", "aria-label": "Transcript" }, items), ack.notes ? h("p", { text: `Wrap-up notes: ${ack.notes}` }) : null);
    lists.hidden = true;
    transcript.hidden = false;
    title.focus();
  }

  function close() {
    transcript.hidden = true;
    lists.hidden = false;
    replace(transcript);
    form.querySelector("button").focus();
  }

  async function loadPrevious() {
    const entry = store ? store.selected : null;
    const id = entry ? entry.id : null;
    if (id === shownFor) return;
    shownFor = id;
    replace(previous);
    previousNone.hidden = true;
    if (!id) return;
    const ack = await conn.request(Event.HISTORY_CUSTOMER, { session_id: id });
    if (shownFor !== id) return;
    if (!ack.ok) {
      shownFor = null; // asked again on the next change (a reconnect, another selection)
      previousNone.hidden = false;
      previousNone.textContent = `Earlier conversations could not be loaded: ${ack.error.message}`;
      return;
    }
    replace(previous, ack.sessions.map((row) => summaryButton(row, open)));
    previousNone.textContent = "No earlier conversations.";
    previousNone.hidden = ack.sessions.length > 0;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const payload = { text: text.value.trim(), customer: customer.value.trim(), agent: agent.value.trim() };
    if (since.value) payload.since = ms(since.value);
    if (until.value) payload.until = ms(until.value) + 86400000; // the whole last day
    status.textContent = "Searching…";
    const ack = await conn.request(Event.HISTORY_SEARCH, payload);
    if (!ack.ok) {
      status.textContent = `The search failed: ${ack.error.message}`;
      return;
    }
    const n = ack.sessions.length;
    status.textContent = n ? `${n}${ack.more ? "+" : ""} conversation${n === 1 ? "" : "s"} found.` : "No conversation matches.";
    replace(results, ack.sessions.map((row) => summaryButton(row, open)));
  });

  const offs = store ? [store.on("selected", loadPrevious), store.on("sessions", loadPrevious)] : [];
  loadPrevious();
  return {
    el,
    destroy() {
      offs.forEach((off) => off && off());
      el.remove();
    },
  };
}
