// Files and read receipts in the console's conversation (docs/protocol.md, "Attachments",
// "Read receipts"). Works on the workspace's DOM from outside, so the chat view needs no
// change: the composer gets an attach button (and takes dropped and pasted files), each
// message with a file shows it (images as thumbnails, others as a download link) through a
// signed link, and the agent's reading is reported (chat.read, at most once a second)
// while the customer's shows as "Seen by the customer" under the newest message it covers.
import { h } from "./dom.js";
import { Event } from "../src/protocol.js";

const EVERY_MS = 1000;
const ACCEPT = "image/png,image/jpeg,image/gif,image/webp,application/pdf";

export const FILES_CSS = `
.attach-btn{align-self:flex-start}
.msg__file{display:block;margin-top:4px;max-width:240px;border-radius:8px;overflow:hidden}
.msg__file img{display:block;max-width:240px;max-height:180px;width:auto;height:auto;background:#eef1f6}
.msg__file-link{display:inline-block;margin-top:4px}
.msg__seen{display:block;font-size:12px;color:#4d5566;margin-top:2px}
.composer--drop{outline:3px dashed #2449b5;outline-offset:2px}
.upload-status{margin:0;font-size:13px}
.upload-status[data-failed]{color:#a3261b}
`;

export function adoptCss(css) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  } catch (_) {
    /* an old browser: unstyled, still usable */
  }
}

function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

// link(sessionId, attachmentId) -> Promise<{url, thumb}>; cached until shortly before expiry
export function createLinks(conn) {
  const links = new Map();
  return async function link(sessionId, id) {
    const known = links.get(id);
    if (known && known.expires - Date.now() > 30000) return known;
    const ack = await conn.request(Event.ATTACHMENT_LINK, { session_id: sessionId, attachment_id: id });
    if (!ack.ok) throw new Error((ack.error && ack.error.message) || "no link");
    // {url: the file, thumb: an image's thumbnail (itself when small)}
    const made = { url: new URL(ack.url, location.href).href, thumb: ack.thumbnail_url ? new URL(ack.thumbnail_url, location.href).href : null, expires: ack.expires_at };
    links.set(id, made);
    return made;
  };
}

// the file of message `m` into its element `node` (a console message <li>)
export function showFile(node, m, link) {
  const file = m.attachment;
  if (!node || !file || node.querySelector(".msg__file, .msg__file-link")) return;
  const image = /^image\//.test(file.content_type);
  const slot = image
    ? h("a", { class: "msg__file", target: "_blank", rel: "noopener noreferrer" }, h("img", { alt: `Image: ${file.name}`, referrerpolicy: "no-referrer" }))
    : h("a", { class: "msg__file-link", target: "_blank", rel: "noopener noreferrer", download: file.name }, `Open ${file.name} (${humanSize(file.size)})`);
  const text = node.querySelector(".msg__text");
  if (text && text.textContent.trim() === file.name) text.replaceWith(slot);
  else node.append(slot);
  link(m.session_id, file.id).then(
    ({ url, thumb }) => {
      slot.href = url;
      if (image) slot.firstChild.src = thumb || url;
    },
    (err) => slot.replaceWith(h("p", { class: "msg__text" }, `${file.name} cannot be shown: ${err.message}`)),
  );
}

export function createConsoleFiles({ conn, store, root, getToken }) {
  adoptCss(FILES_CSS);
  const link = createLinks(conn);
  const customerMarks = new Map(); // session id -> the seq the customer has read
  const sentMarks = new Map(); // session id -> the seq we said we read
  let timer = 0;
  let lastSentAt = 0;
  let sends = 0;
  const status = h("p", { class: "upload-status", role: "status", "aria-live": "polite" });

  const messageNode = (seq) => root.querySelector(`.conversation li[data-seq="${seq}"]`);

  function decorate() {
    const entry = store.selected;
    if (!entry) return;
    for (const m of entry.messages.values()) if (m.attachment) showFile(messageNode(m.seq), m, link);
    showSeen();
  }

  function showSeen() {
    const entry = store.selected;
    const old = root.querySelector("[data-customer-seen]");
    const mark = entry ? customerMarks.get(entry.id) || 0 : 0;
    let seq = 0;
    if (entry) for (const [s, m] of entry.messages) if (s <= mark && s > seq && m.sender.role !== "customer" && m.sender.role !== "system") seq = s;
    const node = seq ? messageNode(seq) : null;
    if (old && old.parentNode === node) return;
    if (old) old.remove();
    if (node) node.append(h("span", { class: "msg__seen", "data-customer-seen": "" }, "Seen by the customer"));
  }

  // the agent has read the selected session up to its newest message (page visible)
  function markRead() {
    const entry = store.selected;
    if (!entry || document.visibilityState === "hidden" || timer) return;
    if (!["live", "wrap_up"].includes(entry.session.state)) return;
    timer = setTimeout(() => {
      timer = 0;
      const now = store.selected;
      if (!now || now.session.state !== "live") return;
      let top = 0;
      for (const s of now.messages.keys()) if (s > top) top = s;
      if (top <= (sentMarks.get(now.id) || 0)) return;
      sentMarks.set(now.id, top);
      lastSentAt = Date.now();
      conn.request(Event.CHAT_READ, { session_id: now.id, seq: top });
    }, Math.max(0, EVERY_MS - (Date.now() - lastSentAt)));
  }

  function say(text, failed = false) {
    status.textContent = text;
    if (failed) status.setAttribute("data-failed", "");
    else status.removeAttribute("data-failed");
  }

  async function upload(file) {
    const entry = store.selected;
    const name = String(file.name || "file").slice(0, 120);
    if (!entry || entry.session.state !== "live") return say(`${name} was not sent: files can be sent only in a live chat.`, true);
    say(`Sending ${name}…`);
    let body;
    try {
      const form = new FormData();
      form.append("session_id", entry.id);
      form.append("file", file, name);
      const token = await getToken();
      const res = await fetch("/attachments", { method: "POST", body: form, headers: { Authorization: `Bearer ${token}` } });
      body = await res.json().catch(() => ({ ok: false, error: { message: `HTTP ${res.status}` } }));
    } catch (err) {
      return say(`${name} was not sent: ${err.message || err}`, true);
    }
    if (!body.ok) return say(`${name} was not sent: ${(body.error && body.error.message) || "unknown error"}`, true);
    sends += 1;
    const ack = await conn.request(Event.CHAT_SEND, {
      session_id: entry.id,
      client_id: `af_${Date.now().toString(36)}_${sends}`,
      text: body.attachment.name,
      attachment_id: body.attachment.id,
    });
    if (!ack.ok) return say(`${name} was not sent: ${(ack.error && ack.error.message) || "unknown error"}`, true);
    if (ack.message) store.addMessages(entry.id, [ack.message]);
    say(`${name} sent.`);
  }

  // the attach button, drop and paste on the reply form (made again when the view is)
  function mountComposer() {
    const form = root.querySelector(".conversation form.composer");
    if (!form || form.querySelector(".attach-btn")) return;
    const input = h("input", { type: "file", accept: ACCEPT, hidden: true, "aria-hidden": "true", tabindex: "-1" });
    const button = h("button", { type: "button", part: "attach", class: "btn btn--small attach-btn", onclick: () => input.click() }, "Attach file");
    input.addEventListener("change", () => {
      for (const file of input.files || []) upload(file);
      input.value = "";
    });
    const side = form.querySelector(".composer__side") || form;
    side.append(button, input);
    form.append(status);
    const take = (files) => [...(files || [])].forEach(upload);
    form.addEventListener("paste", (e) => {
      if (!e.clipboardData || !e.clipboardData.files.length) return;
      e.preventDefault();
      take(e.clipboardData.files);
    });
    form.addEventListener("dragover", (e) => {
      if (!e.dataTransfer || ![...e.dataTransfer.types].includes("Files")) return;
      e.preventDefault();
      form.classList.add("composer--drop");
    });
    form.addEventListener("dragleave", () => form.classList.remove("composer--drop"));
    form.addEventListener("drop", (e) => {
      form.classList.remove("composer--drop");
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      e.preventDefault();
      take(e.dataTransfer.files);
    });
  }

  function onPush(name, data) {
    if (!data || typeof data !== "object") return;
    if (name === Event.CHAT_READ && data.reader && data.reader.role === "customer") {
      if (data.seq > (customerMarks.get(data.session_id) || 0)) customerMarks.set(data.session_id, data.seq);
      if (store.selectedId === data.session_id) showSeen();
    } else if (name === Event.SESSION_HANDOFF && data.session && Array.isArray(data.reads)) {
      for (const r of data.reads) {
        const id = data.session.session_id;
        if (r.reader && r.reader.role === "customer" && r.seq > (customerMarks.get(id) || 0)) customerMarks.set(id, r.seq);
        if (r.reader && r.reader.role === "agent" && r.seq > (sentMarks.get(id) || 0)) sentMarks.set(id, r.seq);
      }
    }
  }

  const refresh = () => {
    mountComposer();
    decorate();
    markRead();
  };
  const onVisible = () => markRead();
  document.addEventListener("visibilitychange", onVisible);
  const offPush = conn.on("push", onPush);
  // after the chat view's own listeners (made before us): its elements are there
  const offs = [store.on("selected", () => queueMicrotask(refresh)), store.on("messages", () => queueMicrotask(refresh)), store.on("session", () => queueMicrotask(refresh))];
  queueMicrotask(refresh);

  return {
    upload,
    destroy() {
      offs.forEach((off) => off && off());
      offPush();
      document.removeEventListener("visibilitychange", onVisible);
      clearTimeout(timer);
    },
  };
}
