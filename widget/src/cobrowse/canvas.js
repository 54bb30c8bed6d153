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
// Never sent: canvases under [data-dcs-mask] or [data-dcs-block] (and the widget's), a
// canvas the page cannot read (tainted by another origin's image), and nothing while the
// tab is hidden. Canvases in shadow roots and iframes are not recorded.
import { BLOCK_SELECTOR, MASK_SELECTOR, closestAcross } from "./privacy.js";

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

// the canvas as a data URL, or null (empty, unreadable, too big)
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
    blob = await new Promise((resolve) => source.toBlob(resolve, TYPE, QUALITY));
  } catch (_) {
    return null; // tainted: the page itself cannot read it
  }
  if (!blob) return null;
  const url = await toDataUrl(blob);
  return url && url.length <= MAX_URL && url.startsWith("data:image/") ? url : null;
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
      for (const canvas of document.querySelectorAll("canvas")) {
        if (stopped) return;
        if (closestAcross(canvas, BLOCK_SELECTOR) || closestAcross(canvas, MASK_SELECTOR)) continue;
        const id = mirror.getId(canvas);
        if (!(id > 0)) continue; // not (yet) recorded
        const url = await encode(canvas);
        if (!url || stopped) continue;
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
