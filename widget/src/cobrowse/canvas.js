// Canvas, for sites that opt in (DCSConfig.cobrowse.canvas = true, or the script tag's
// data-cobrowse-canvas="true"): a canvas can show anything, a signature or a document
// preview among them, so nothing of it is sent otherwise.
//
// A few times a second each canvas of the page is encoded as an image (WebP, at most
// MAX_SIDE pixels a side; the browser encodes it off the main thread) and, when it or the
// box it takes (CSS pixels) changed, sent as an rrweb Custom event {tag: "dcs-canvas",
// payload: {id, url, w, h}} that the agent's console shows in place of the replayed canvas
// (widget/console/cobrowse/fidelity.js: a document without scripts, as the replay is, never
// shows a canvas's bitmap). Not rrweb's recordCanvas: its
// sampling runs in a worker made from a blob: URL, which a site's CSP may refuse.
//
// Canvases are found in the document, in open shadow roots and in same-origin iframes (at
// any depth), as the rest of the page is recorded.
//
// WebGL canvases are sent as the browser reads them. With preserveDrawingBuffer: true they
// read as drawn everywhere; without it the drawing buffer is cleared once a frame is shown,
// and Chromium reads what the canvas shows, but a browser that reads the cleared buffer gets
// an empty image. An empty image is never sent for a canvas that had nothing sent before
// (nor for a canvas nothing was drawn on yet), so such a canvas stays an empty box of its
// size in the agent's view (fidelity.js), never a wrong picture.
//
// Never sent: canvases under [data-dcs-mask] or [data-dcs-block] (and the widget's), a
// canvas the page cannot read (tainted by another origin's image), and nothing while the
// tab is hidden.
import { BLOCK_SELECTOR, MASK_SELECTOR, closestAcross, isBlocked } from "./privacy.js";

export const CANVAS_TAG = "dcs-canvas";
const CUSTOM = 5; // rrweb's EventType.Custom
const FPS = 2;
const MAX_SIDE = 1024; // pixels: a bigger canvas is sent scaled down
const TYPE = "image/webp";
const QUALITY = 0.6;
const MAX_URL = 3 << 20; // characters: a frame bigger than this is not sent

function toDataUrl(blob) {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === "string" ? reader.result : null);
    reader.onerror = () => resolve(null);
    reader.readAsDataURL(blob);
  });
}

const MAX_DEPTH = 8; // shadow roots and iframes within each other

// Every canvas under `root` (a document or a shadow root), through open shadow roots and
// same-origin iframes; nothing under a blocked element (the widget's own root among them).
function collect(root, out, depth = 0) {
  const doc = root.ownerDocument || root;
  const walker = doc.createTreeWalker(root, 1 /* NodeFilter.SHOW_ELEMENT */, {
    acceptNode: (el) => (isBlocked(el) ? 2 /* FILTER_REJECT: its subtree too */ : 1),
  });
  for (let el = walker.nextNode(); el; el = walker.nextNode()) {
    if (el.localName === "canvas") out.push(el);
    if (depth >= MAX_DEPTH) continue;
    if (el.shadowRoot) collect(el.shadowRoot, out, depth + 1);
    if (el.localName === "iframe") {
      let inner = null;
      try {
        inner = el.contentDocument; // null for another origin's
      } catch (_) {
        inner = null;
      }
      if (inner && inner.documentElement) collect(inner, out, depth + 1);
    }
  }
  return out;
}

function toBlob(canvas) {
  return new Promise((resolve) => canvas.toBlob(resolve, TYPE, QUALITY));
}

// the encoding of an empty canvas of each size (to tell an empty read, a WebGL canvas's
// cleared buffer, from a drawing)
const blanks = new Map();
async function blankUrl(width, height) {
  const key = `${width}x${height}`;
  if (!blanks.has(key)) {
    const blank = document.createElement("canvas");
    blank.width = width;
    blank.height = height;
    const blob = await toBlob(blank);
    blanks.set(key, blob ? await toDataUrl(blob) : null);
    if (blanks.size > 32) blanks.delete(blanks.keys().next().value);
  }
  return blanks.get(key);
}

// the canvas as {url, blank}, or null (no pixels, unreadable, too big)
async function encode(canvas) {
  const { width, height } = canvas;
  if (!width || !height) return null;
  let source = canvas;
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  if (scale < 1) {
    source = document.createElement("canvas");
    source.width = Math.max(1, Math.round(width * scale));
    source.height = Math.max(1, Math.round(height * scale));
    const ctx = source.getContext("2d");
    if (!ctx) return null;
    ctx.drawImage(canvas, 0, 0, source.width, source.height);
  }
  let blob = null;
  try {
    blob = await toBlob(source);
  } catch (_) {
    return null; // tainted: the page itself cannot read it
  }
  if (!blob) return null;
  const url = await toDataUrl(blob);
  if (!url || url.length > MAX_URL || !url.startsWith("data:image/")) return null;
  return { url, blank: url === (await blankUrl(source.width, source.height)) };
}

// mirror: rrweb's (the ids the agent's view knows); emit(event): into the recording's stream.
// Returns stop().
export function startCanvasRecording({ mirror, emit, log = () => {} }) {
  const sent = new WeakMap(); // canvas -> {url, w, h} last sent
  let busy = false;
  let stopped = false;

  async function sample() {
    if (busy || stopped || document.visibilityState === "hidden") return;
    busy = true;
    try {
      for (const canvas of collect(document, [])) {
        if (stopped) return;
        if (closestAcross(canvas, BLOCK_SELECTOR) || closestAcross(canvas, MASK_SELECTOR)) continue;
        const id = mirror.getId(canvas);
        if (!(id > 0)) continue; // not (yet) recorded
        const frame = await encode(canvas);
        if (!frame || stopped || !canvas.isConnected) continue;
        if (frame.blank && !sent.has(canvas)) continue; // nothing drawn (yet), or WebGL's cleared buffer
        const { url } = frame;
        const box = canvas.getBoundingClientRect();
        const w = Math.round(box.width * 100) / 100;
        const h = Math.round(box.height * 100) / 100;
        const last = sent.get(canvas);
        if (last && last.url === url && last.w === w && last.h === h) continue;
        sent.set(canvas, { url, w, h });
        emit({ type: CUSTOM, data: { tag: CANVAS_TAG, payload: { id, url, w, h } }, timestamp: Date.now() });
      }
    } catch (err) {
      log("a canvas could not be recorded:", err);
    } finally {
      busy = false;
    }
  }

  const timer = setInterval(sample, 1000 / FPS);
  sample(); // the first frames right after the snapshot
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
