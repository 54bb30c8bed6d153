// Files in the widget's chat (docs/protocol.md, "Attachments"): an attach button and paste
// in the composer, the upload (POST /attachments with a fresh token), the message that
// carries it, and attachment messages shown as image thumbnails or file links, through
// signed links asked for with attachment.link. Works on the view's DOM from outside, so the
// UI modules need no change: the composer gets the button, each message node its file.
import { Event } from "./protocol.js";
import { fetchToken } from "./transport.js";
import { h } from "./ui/dom.js";
import texts from "./filetexts.js";

export const FILES_TEXT = texts;

export const FILES_CSS = `
.attach{flex:none;align-self:flex-end;width:38px;height:38px;border:0;border-radius:10px;background:transparent;color:var(--muted);display:grid;place-items:center}
.attach:hover{background:var(--soft);color:var(--ink)}
.attach svg{width:20px;height:20px}
.attach svg path{fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.msg .file{display:block;margin-top:4px;border-radius:12px;overflow:hidden;max-width:220px}
.msg .file img{display:block;max-width:220px;max-height:180px;object-fit:contain;background:var(--soft)}
.msg a.file-link{display:inline-block;margin-top:4px;padding:8px 12px;border-radius:12px;background:var(--soft);color:var(--ink);text-decoration:underline}
.msg .seen{align-self:flex-end}
.uploading{align-self:center;font-size:12.5px;color:var(--muted)}
`;

const ICON_CLIP = "M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9";
const ACCEPT = "image/png,image/jpeg,image/gif,image/webp,application/pdf";

// the size an image shows at (its thumbnail's, at most 220×180), known before it loads
export function thumbSize(file, maxW = 220, maxH = 180) {
  if (!(file.width > 0 && file.height > 0)) return { width: null, height: null };
  const scale = Math.min(1, maxW / file.width, maxH / file.height);
  return { width: Math.round(file.width * scale), height: Math.round(file.height * scale) };
}

export function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

// server, tokenUrl: from the widget's config; request(name, payload): the transport's
export function createFiles({ server, tokenUrl, request, model, t }) {
  const links = new Map(); // attachment id -> {url, expires}
  let seq = 0;

  async function link(id) {
    const known = links.get(id);
    if (known && known.expires - Date.now() > 30000) return known;
    const ack = await request(Event.ATTACHMENT_LINK, { session_id: model.id, attachment_id: id });
    if (!ack.ok) throw new Error((ack.error && ack.error.message) || "no link");
    // {url: the file, thumb: an image's thumbnail (itself when small)}
    const made = { url: new URL(ack.url, server).href, thumb: ack.thumbnail_url ? new URL(ack.thumbnail_url, server).href : null, expires: ack.expires_at };
    links.set(id, made);
    return made;
  }

  // the file a message carries, in place of its text (the caption stays when it says more)
  function decorate(node, m) {
    const file = m.attachment;
    if (!node || !file || node.querySelector(".file, .file-link")) return;
    const text = node.querySelector(".text");
    const name = String(file.name || "file");
    const image = /^image\//.test(file.content_type);
    const slot = image
      ? h("a", { class: "file", target: "_blank", rel: "noopener noreferrer" }, h("img", { alt: t("attach_image", { name }), width: thumbSize(file).width, height: thumbSize(file).height, referrerpolicy: "no-referrer" }))
      : h("a", { class: "file-link", target: "_blank", rel: "noopener noreferrer", download: name }, t("attach_open", { name, size: humanSize(file.size || 0) }));
    if (text && text.textContent.trim() === name) text.replaceWith(slot);
    else node.append(slot);
    link(file.id).then(
      ({ url, thumb }) => {
        slot.href = url;
        if (image) slot.firstChild.src = thumb || url;
      },
      () => slot.replaceWith(h("div", { class: "text" }, t("attach_unavailable", { name }))),
    );
  }

  async function upload(file) {
    const name = String(file.name || "file").slice(0, 120);
    const fail = (why) => model.notice(t("attach_failed", { name, why }));
    if (!model.id) return fail(t("error_generic"));
    let body;
    try {
      const form = new FormData();
      form.append("session_id", model.id);
      form.append("file", file, name);
      const token = await fetchToken(tokenUrl);
      const res = await fetch(new URL("/attachments", server).href, { method: "POST", body: form, headers: { Authorization: `Bearer ${token}` } });
      body = await res.json().catch(() => ({ ok: false, error: { message: `HTTP ${res.status}` } }));
    } catch (err) {
      return fail((err && err.message) || t("error_generic"));
    }
    if (!body.ok) return fail((body.error && body.error.message) || t("error_generic"));
    seq += 1;
    const payload = { session_id: model.id, client_id: `f_${Date.now().toString(36)}_${seq}`, text: body.attachment.name, attachment_id: body.attachment.id };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const ack = await request(Event.CHAT_SEND, payload);
      if (ack.ok) {
        if (ack.message) model.addMessage(ack.message, true);
        return;
      }
      const code = ack.error && ack.error.code;
      if (!["offline", "timeout", "internal", "rate_limited"].includes(code)) return fail(ack.error.message);
      await new Promise((r) => setTimeout(r, 1500)); // the same client_id: stored once
    }
    fail(t("error_generic"));
  }

  // the attach button (and paste) in the composer form
  function mountComposer(form) {
    if (!form || form.querySelector(".attach")) return;
    const input = h("input", { type: "file", accept: ACCEPT, hidden: true, tabindex: "-1", "aria-hidden": "true" });
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICON_CLIP);
    svg.append(path);
    const button = h("button", { part: "attach", class: "attach", type: "button", "aria-label": t("attach"), title: t("attach"), onclick: () => input.click() }, svg);
    input.addEventListener("change", () => {
      for (const file of input.files || []) upload(file);
      input.value = "";
    });
    form.addEventListener("paste", (e) => {
      const files = [...((e.clipboardData && e.clipboardData.files) || [])];
      if (!files.length) return;
      e.preventDefault();
      files.forEach(upload);
    });
    form.prepend(button, input);
  }

  return { decorate, upload, mountComposer, link };
}

// Puts files and receipts into a made view: the stylesheet, the attach button, every
// message node (now and to come) decorated, "Seen" kept under the right message.
export function installFileUi({ view, files, receipts, model }) {
  const layer = view.layer;
  const shadow = layer.getRootNode();
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(FILES_CSS);
    shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
  } catch (_) {
    shadow.append(h("style", {}, FILES_CSS));
  }
  files.mountComposer(layer.querySelector("form.composer"));
  const decorate = (m) => m.attachment && files.decorate(layer.querySelector(`.msg[data-seq="${m.seq}"]`), m);
  for (const m of model.messages.values()) decorate(m);
  const onVisible = () => receipts.markRead();
  document.addEventListener("visibilitychange", onVisible);
  const offs = [
    model.on("message", (m) => {
      decorate(m);
      receipts.showSeen();
      receipts.markRead();
    }),
    model.on("reset", () => receipts.reset()),
  ];
  receipts.showSeen();
  return () => {
    offs.forEach((off) => off());
    document.removeEventListener("visibilitychange", onVisible);
  };
}
