// The waiting queue: one item per waiting session (customer, wait time ticking every
// second, queue, reason, first message, page) with an Accept button. Items are keyed by
// session id and kept across changes, so focus stays put while the list changes. The
// server keeps the first page current (queue.changes); the count is everyone waiting.
import { h, nextId, reconcile, setAttr, setText, show, srOnly } from "../dom.js";
import { customerLabel, formatClock, formatDuration } from "../format.js";

const LONG_WAIT_MS = 2 * 60 * 1000;

export function createQueue({ store, actions, onAccepted }) {
  const titleId = nextId("queue-title");
  const count = h("span", { class: "count", text: "0" });
  const heading = h("h2", { id: titleId, class: "panel__title", tabindex: "-1" }, "Queue ", count);
  const empty = h("p", { class: "panel__empty", text: "No one is waiting." });
  const list = h("ul", { part: "queue", class: "queue", "aria-labelledby": titleId });
  const more = h("p", { part: "queue-more", class: "panel__empty", hidden: true });
  const el = h("section", { class: "panel panel--queue", "aria-labelledby": titleId }, heading, empty, list, more);
  const items = new Map(); // session id -> {el, parts}

  function makeItem(id) {
    const name = h("span", { class: "qi__name" });
    const wait = h("span", { class: "qi__wait-time" });
    const queue = h("span", { class: "tag qi__queue" });
    const reason = h("span", { class: "qi__reason" });
    const first = h("p", { class: "qi__first" });
    // a follow-up: the customer left a message while no one was available
    const leftTag = h("span", { class: "tag qi__left-tag" });
    const leftText = h("span", { class: "qi__left-text" });
    const left = h("p", { part: "queue-left-message", class: "qi__left", hidden: true }, leftTag, " ", leftText);
    const page = h("p", { class: "qi__page" });
    const accept = h("button", { type: "button", part: "accept", class: "btn btn--primary btn--small" }, "Accept");
    accept.addEventListener("click", async () => {
      // not disabled while in flight: a disabled button would drop the keyboard focus
      if (accept.getAttribute("aria-busy") === "true") return;
      setAttr(accept, "aria-busy", "true");
      const ack = await actions.accept(id);
      setAttr(accept, "aria-busy", null);
      if (ack && ack.ok) onAccepted(id);
    });
    const el = h(
      "li",
      { part: "queue-item", class: "qi", "data-session-id": id },
      h("div", { class: "qi__head" }, name, h("span", { class: "qi__wait" }, srOnly("waiting "), wait)),
      h("div", { class: "qi__meta" }, queue, reason),
      left,
      first,
      page,
      h("div", { class: "qi__actions" }, accept),
    );
    return { el, name, wait, queue, reason, first, left, leftTag, leftText, page, accept, queuedAt: null };
  }

  function fill(item, data) {
    const label = customerLabel(data.customer);
    setText(item.name, label);
    item.name.title = data.customer.id ? `Customer id: ${data.customer.id}` : "";
    setText(item.queue, data.queue || "default");
    setText(item.reason, data.reason);
    show(item.reason, Boolean(data.reason));
    const note = data.left_message;
    const at = note ? formatClock(note.at) : "";
    setText(item.leftTag, at ? `Left a message · ${at}` : "Left a message");
    setText(item.leftText, note ? `“${note.text}”` : "");
    show(item.left, Boolean(note));
    item.el.classList.toggle("qi--left", Boolean(note));
    setText(item.first, data.first_message ? `“${data.first_message}”` : "");
    show(item.first, Boolean(data.first_message) && !(note && note.text === data.first_message));
    setText(item.page, data.page.title || data.page.url);
    item.page.title = data.page.url;
    show(item.page, Boolean(data.page.title || data.page.url));
    item.accept.setAttribute("aria-label", `Accept chat with ${label}`);
    item.queuedAt = data.queued_at;
    tick(item);
  }

  function tick(item) {
    if (item.queuedAt == null) {
      setText(item.wait, "");
      return;
    }
    const waited = Date.now() - item.queuedAt;
    setText(item.wait, formatDuration(waited));
    item.el.classList.toggle("qi--long", waited >= LONG_WAIT_MS);
  }

  function render() {
    const queue = store.queue;
    const focusedItem = [...items.values()].find((item) => item.el.contains(document.activeElement));
    const wanted = [];
    const ids = new Set();
    for (const data of queue) {
      if (ids.has(data.session_id)) continue;
      ids.add(data.session_id);
      let item = items.get(data.session_id);
      if (!item) {
        item = makeItem(data.session_id);
        items.set(data.session_id, item);
      }
      fill(item, data);
      wanted.push(item.el);
    }
    let focusIndex = -1;
    for (const [id, item] of [...items]) {
      if (!ids.has(id)) {
        if (item === focusedItem) focusIndex = [...list.children].indexOf(item.el);
        items.delete(id);
      }
    }
    reconcile(list, wanted);
    const total = Math.max(store.queueTotal, wanted.length);
    setText(count, String(total));
    show(empty, total === 0);
    const beyond = total - wanted.length;
    setText(more, beyond > 0 ? `${beyond} more waiting after these.` : "");
    show(more, beyond > 0);
    if (focusIndex >= 0) {
      // the focused item went away (taken): keep the keyboard user nearby
      const next = wanted[Math.min(focusIndex, wanted.length - 1)];
      const target = next ? next.querySelector("[data-part='accept']") : heading;
      target.focus();
    }
  }

  const ticker = setInterval(() => items.forEach(tick), 1000);
  const off = store.on("queue", render);
  render();

  return {
    el,
    destroy() {
      clearInterval(ticker);
      off();
    },
  };
}
