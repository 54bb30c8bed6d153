// "My sessions": the sessions the agent holds, with state and unread badges; choosing one
// shows it in the main area.
import { h, nextId, reconcile, setAttr, setText, show } from "../dom.js";
import { customerLabel, stateLabel } from "../format.js";

export function createSessions({ store, onSelect }) {
  const titleId = nextId("mine-title");
  const count = h("span", { class: "count", text: "0" });
  const empty = h("p", { class: "panel__empty", text: "Accept a session from the queue to start chatting." });
  const list = h("ul", { part: "my-sessions", class: "mine", "aria-labelledby": titleId });
  const el = h(
    "section",
    { class: "panel panel--mine", "aria-labelledby": titleId },
    h("h2", { id: titleId, class: "panel__title" }, "My sessions ", count),
    empty,
    list,
  );
  const rows = new Map(); // session id -> {li, button, name, state, typing, unread, unreadCount}

  function makeRow(id) {
    const name = h("span", { class: "ms__name" });
    const state = h("span", { class: "ms__state" });
    const typing = h("span", { class: "ms__typing", text: "typing…", hidden: true });
    const unreadCount = document.createTextNode("0");
    const unread = h("span", { class: "ms__unread", hidden: true }, h("span", { part: "unread", class: "badge" }, unreadCount), h("span", { class: "sr-only", text: " unread" }));
    const button = h(
      "button",
      { type: "button", part: "my-session", class: "ms", "data-session-id": id, onclick: () => onSelect(id) },
      h("span", { class: "ms__line" }, name, unread),
      h("span", { class: "ms__line ms__line--sub" }, state, typing),
    );
    return { li: h("li", {}, button), button, name, state, typing, unread, unreadCount };
  }

  function render() {
    const wanted = [];
    const seen = new Set();
    for (const entry of store.list()) {
      seen.add(entry.id);
      let row = rows.get(entry.id);
      if (!row) {
        row = makeRow(entry.id);
        rows.set(entry.id, row);
      }
      setText(row.name, customerLabel(entry.customer));
      const state = entry.session.state;
      setText(row.state, stateLabel(state) + (entry.session.queue ? ` · ${entry.session.queue}` : ""));
      setAttr(row.button, "data-state", state);
      setAttr(row.button, "aria-current", store.selectedId === entry.id ? "true" : null);
      if (row.unreadCount.data !== String(entry.unread)) row.unreadCount.data = String(entry.unread);
      show(row.unread, entry.unread > 0);
      show(row.typing, entry.customerTyping);
      wanted.push(row.li);
    }
    let lostFocus = false;
    for (const [id, row] of [...rows]) {
      if (!seen.has(id)) {
        lostFocus = lostFocus || row.li.contains(document.activeElement);
        rows.delete(id);
      }
    }
    reconcile(list, wanted);
    setText(count, String(wanted.length));
    show(empty, wanted.length === 0);
    if (lostFocus && wanted.length) wanted[0].querySelector("button").focus();
  }

  function renderTyping(id) {
    const row = rows.get(id);
    const entry = store.get(id);
    if (row && entry) show(row.typing, entry.customerTyping);
  }

  const offs = [store.on("sessions", render), store.on("selected", render), store.on("typing", renderTyping)];
  render();

  return {
    el,
    destroy() {
      offs.forEach((off) => off());
    },
  };
}
