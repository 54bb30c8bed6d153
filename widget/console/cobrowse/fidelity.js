// What rrweb's Replayer leaves out or gets wrong in the agent's view, put right as a
// Replayer plugin (it runs in the console, never inside the replayed document, which stays
// sandboxed without scripts):
//
// - selects: the Replayer writes a select's value as an attribute, which selects nothing
//   (the first option shows), and the recorder leaves out options' `selected` (the policy
//   masks selects): the recorded value is selected once the select and its options are
//   built. A masked select's value matches no option; instead of a blank select it shows a
//   neutral option of its own (the mask, "•••"), never one of the customer's options.
// - scrolls: the Replayer scrolls smoothly in live mode, so the view glides after the
//   customer; a scroll is applied at once.
// - canvas: a document without scripts shows a canvas's fallback content (no box of its
//   own), never its bitmap, and rrweb's UNSAFE_replayCanvas would add allow-scripts to the
//   sandbox. Each canvas gets the box it would take; sites that opt in send their canvases
//   as images (widget/src/cobrowse/canvas.js, Custom events tagged "dcs-canvas", with the
//   box the canvas takes on the page), each shown as the replayed canvas's background.
import { EventType, IncrementalSource } from "rrweb";

export const CANVAS_TAG = "dcs-canvas"; // as widget/src/cobrowse/canvas.js sends it
const MAX_CANVAS_URL = 4 << 20; // characters of one frame's data URL
const MAX_CANVAS_SIDE = 20000; // CSS pixels of the box it takes
const CANVAS_URL = /^data:image\/(?:webp|png|jpeg);base64,[A-Za-z0-9+/]+={0,2}$/;
const NEUTRAL = "•••";
const neutralOptions = new WeakSet();

// A Custom event the view applies: a canvas frame, {id, url}.
export function validCanvasFrame(data) {
  const payload = data && data.tag === CANVAS_TAG ? data.payload : null;
  const size = (v) => typeof v === "number" && v >= 0 && v <= MAX_CANVAS_SIDE;
  return Boolean(
    payload &&
      Number.isInteger(payload.id) &&
      size(payload.w) &&
      size(payload.h) &&
      typeof payload.url === "string" &&
      payload.url.length <= MAX_CANVAS_URL &&
      CANVAS_URL.test(payload.url),
  );
}

function isSelect(node) {
  return Boolean(node && node.nodeType === 1 && node.localName === "select");
}

// the select shows `value`: its option, or the neutral one when none has it
function showValue(select, value) {
  if (select.multiple) return;
  const text = value == null ? "" : String(value);
  let neutral = null;
  let match = null;
  for (const option of select.options) {
    if (neutralOptions.has(option)) neutral = option;
    else if (!match && option.value === text) match = option;
  }
  if (match) {
    if (neutral) neutral.remove();
    select.value = text;
    return;
  }
  if (!text) return; // nothing recorded: as the browser shows it
  if (!neutral) {
    neutral = select.ownerDocument.createElement("option");
    neutral.hidden = true; // not offered as a choice
    neutral.textContent = NEUTRAL;
    neutralOptions.add(neutral);
    select.append(neutral);
  }
  select.selectedIndex = neutral.index;
}

export function createFidelity({ log = () => {} } = {}) {
  const canvasSeq = new WeakMap(); // canvas -> the last frame asked for: older ones are dropped
  const values = new WeakMap(); // select -> its value as last recorded

  // the select as last recorded: its value attribute from the snapshot (or the mutation
  // that added it), then what input events said
  function showRecorded(select) {
    if (!values.has(select) && select.hasAttribute("value")) values.set(select, select.getAttribute("value"));
    if (values.has(select)) showValue(select, values.get(select));
  }

  // A document without scripts shows a canvas as its fallback content, never its bitmap
  // (so would the sandboxed replay, even if the Replayer drew on it): the frame becomes the
  // element's background, in the box the canvas takes on the customer's page.
  function showCanvas(replayer, { id, url, w, h }) {
    const canvas = replayer.getMirror().getNode(id);
    if (!canvas || canvas.nodeType !== 1 || canvas.localName !== "canvas") return;
    const seq = (canvasSeq.get(canvas) || 0) + 1;
    canvasSeq.set(canvas, seq);
    const image = new Image();
    image.src = url;
    const apply = () => {
      if (canvasSeq.get(canvas) !== seq || !canvas.isConnected) return;
      const style = canvas.style;
      const view = canvas.ownerDocument.defaultView;
      if (view && view.getComputedStyle(canvas).display === "inline") style.setProperty("display", "inline-block");
      style.setProperty("box-sizing", "border-box");
      style.setProperty("width", `${w}px`);
      style.setProperty("height", `${h}px`);
      style.setProperty("background", `url("${url}") content-box 0 0 / 100% 100% no-repeat`);
    };
    image.decode().then(apply, () => log("a canvas frame could not be decoded"));
  }

  // Without a frame (the site did not opt in, or none came yet), a canvas still takes the
  // room it takes on the page: as a replaced element would, from its width and height
  // attributes (300 x 150 by default) where the page's CSS does not size it.
  function sizeCanvas(canvas) {
    if (canvasSeq.has(canvas)) return; // shown from its frames, in their box
    const view = canvas.ownerDocument.defaultView;
    if (!view || !canvas.isConnected) return;
    const computed = view.getComputedStyle(canvas);
    const attr = (name, fallback) => {
      const value = parseInt(canvas.getAttribute(name) || "", 10);
      return Number.isFinite(value) && value >= 0 ? value : fallback;
    };
    const w = attr("width", 300);
    const h = attr("height", 150);
    const style = canvas.style;
    // (read before any change: the computed style is live)
    const autoWidth = computed.width === "auto" || computed.width === "";
    const autoHeight = computed.height === "auto" || computed.height === "";
    if (computed.display === "inline") style.setProperty("display", "inline-block");
    if (autoWidth) style.setProperty("width", `${w}px`);
    if (autoHeight) {
      if (autoWidth || !h || !w) style.setProperty("height", `${h}px`);
      else style.setProperty("aspect-ratio", `${w} / ${h}`);
    }
  }

  // canvases built (a snapshot, added nodes) are sized once in the document (after the
  // build, which runs in one go)
  let toSize = [];
  function sizeLater(canvas) {
    if (!toSize.length) {
      queueMicrotask(() => {
        const list = toSize;
        toSize = [];
        for (const c of list) sizeCanvas(c);
      });
    }
    toSize.push(canvas);
  }

  function sizeCanvases(root) {
    if (!root) return;
    if (root.nodeType === 1 && root.localName === "canvas") sizeCanvas(root);
    else if (typeof root.querySelectorAll === "function") for (const canvas of root.querySelectorAll("canvas")) sizeCanvas(canvas);
  }

  function scrollNow(replayer, data) {
    const node = replayer.getMirror().getNode(data.id);
    if (!node) return;
    const target = node.nodeType === 9 ? node.defaultView : node;
    if (target && typeof target.scrollTo === "function") target.scrollTo({ left: data.x, top: data.y, behavior: "instant" });
  }

  function handle(event, replayer) {
    if (event.type === EventType.FullSnapshot) {
      const d = replayer.iframe && replayer.iframe.contentDocument;
      if (d) for (const select of d.querySelectorAll("select[value]")) showRecorded(select);
      sizeCanvases(d);
      return;
    }
    if (event.type === EventType.Custom) {
      if (validCanvasFrame(event.data)) showCanvas(replayer, event.data.payload);
      return;
    }
    if (event.type !== EventType.IncrementalSnapshot) return;
    const data = event.data;
    if (data.source === IncrementalSource.Input) {
      const node = replayer.getMirror().getNode(data.id);
      if (isSelect(node) && typeof data.text === "string") {
        values.set(node, data.text);
        showValue(node, data.text);
      }
    } else if (data.source === IncrementalSource.Scroll) {
      scrollNow(replayer, data);
    } else if (data.source === IncrementalSource.Mutation && Array.isArray(data.adds)) {
      const mirror = replayer.getMirror();
      for (const add of data.adds) if (add && add.node) sizeCanvases(mirror.getNode(add.node.id));
    }
  }

  // the rrweb Replayer plugin
  return {
    onBuild(node) {
      try {
        if (isSelect(node)) showRecorded(node);
        else if (node && node.nodeType === 1 && node.localName === "canvas") sizeLater(node);
        else if (node && node.nodeType === 1 && node.localName === "option" && isSelect(node.parentNode)) {
          showRecorded(node.parentNode); // an option added to a select already there
        }
      } catch (err) {
        log("could not show a replayed select:", err);
      }
    },
    handler(event, _isSync, { replayer }) {
      try {
        handle(event, replayer);
      } catch (err) {
        log("could not apply a replayed event in full:", err);
      }
    },
  };
}
