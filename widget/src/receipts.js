// Read receipts in the widget (docs/protocol.md, "Read receipts"): the customer's mark is
// sent (chat.read, at most once a second) while the panel is open and the page visible;
// the agent's mark shows as "Seen" under the newest customer message it covers.
import { Event } from "./protocol.js";
import { h } from "./ui/dom.js";

const STAFF = new Set(["agent", "supervisor"]);
const EVERY_MS = 1000;

export function createReceipts({ request, model, t, isOpen, getLayer }) {
  let sent = 0; // the highest seq this tab has said it read
  let staffMark = 0; // the highest seq the agent has read
  let timer = 0;
  let lastSentAt = 0;

  function markRead() {
    if (!model.id || !isOpen() || document.visibilityState === "hidden") return;
    if (!model.session || !model.session.agent) return; // nobody to tell yet
    const seq = model.highWater();
    if (seq <= sent || timer) return;
    const wait = Math.max(0, EVERY_MS - (Date.now() - lastSentAt));
    timer = setTimeout(() => {
      timer = 0;
      const upTo = model.highWater();
      if (upTo <= sent || !model.id) return;
      sent = upTo;
      lastSentAt = Date.now();
      request(Event.CHAT_READ, { session_id: model.id, seq: upTo });
    }, wait);
  }

  function showSeen() {
    const layer = getLayer();
    if (!layer) return;
    const old = layer.querySelector("[data-seen]");
    let seq = 0;
    for (const [s, m] of model.messages) if (s <= staffMark && s > seq && m.sender && m.sender.role === "customer") seq = s;
    const node = seq ? layer.querySelector(`.msg[data-seq="${seq}"]`) : null;
    if (old && old.parentNode === node) return;
    if (old) old.remove();
    if (node) node.append(h("div", { class: "state seen", "data-seen": "" }, t("seen")));
  }

  function mark(reader, seq) {
    if (!reader || !STAFF.has(reader.role) || !(seq > staffMark)) return;
    staffMark = seq;
    showSeen();
  }

  return {
    markRead,
    showSeen,
    // chat.read pushed to the session
    push(data) {
      if (data && data.session_id === model.id) mark(data.reader, data.seq);
    },
    // session.start's ack: the marks as stored (a reload keeps them)
    resume(reads) {
      for (const r of reads || []) {
        if (r.reader && r.reader.role === "customer" && r.seq > sent) sent = r.seq;
        mark(r.reader, r.seq);
      }
    },
    reset() {
      sent = 0;
      staffMark = 0;
      clearTimeout(timer);
      timer = 0;
    },
  };
}
