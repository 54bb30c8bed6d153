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
// - canvas: the Replayer draws canvas only with scripts allowed in the replay (rrweb's
//   UNSAFE_replayCanvas adds allow-scripts to the sandbox). Sites that opt in send their
//   canvases as images (widget/src/cobrowse/canvas.js, Custom events tagged "dcs-canvas"):
//   each is decoded here and drawn onto the replayed canvas.
import { EventType, IncrementalSource } from "rrweb";

export const CANVAS_TAG = "dcs-canvas"; // as widget/src/cobrowse/canvas.js sends it
const MAX_CANVAS_URL = 4 << 20; // characters of one frame's data URL
const CANVAS_URL = /^data:image\/(?:webp|png|jpeg);base64,[A-Za-z0-9+/]+={0,2}$/;
const NEUTRAL = "•••";
const neutralOptions = new WeakSet();

// A Custom event the view applies: a canvas frame, {id, url}.
export function validCanvasFrame(data) {
  const payload = data && data.tag === CANVAS_TAG ? data.payload : null;
  return Boolean(
    payload &&
      Number.isInteger(payload.id) &&
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

  function drawCanvas(replayer, { id, url }) {
    console.log("DRAW", id, url.length, String(replayer.getMirror().getNode(id)));
    const canvas = replayer.getMirror().getNode(id);
    if (!canvas || canvas.nodeType !== 1 || canvas.localName !== "canvas") return;
    const seq = (canvasSeq.get(canvas) || 0) + 1;
    canvasSeq.set(canvas, seq);
    const image = new Image();
    image.onload = () => {
      if (canvasSeq.get(canvas) !== seq || !canvas.isConnected) return;
      try {
        const ctx = canvas.getContext("2d");
        if (!ctx) return;
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
      } catch (err) {
        log("could not draw a canvas frame:", err);
      }
    };
    image.onerror = () => log("a canvas frame could not be decoded");
    image.src = url;
  }

  function scrollNow(replayer, data) {
    const node = replayer.getMirror().getNode(data.id);
    if (!node) return;
    const target = node.nodeType === 9 ? node.defaultView : node;
    if (target && typeof target.scrollTo === "function") target.scrollTo({ left: data.x, top: data.y, behavior: "instant" });
  }

  function handle(event, replayer) {
    if (event.type === 5) console.log("CUSTOM", JSON.stringify(event.data).slice(0, 80));
    if (event.type === EventType.FullSnapshot) {
      const d = replayer.iframe && replayer.iframe.contentDocument;
      if (d) for (const select of d.querySelectorAll("select[value]")) showRecorded(select);
      return;
    }
    if (event.type === EventType.Custom) {
      if (validCanvasFrame(event.data)) drawCanvas(replayer, event.data.payload);
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
    }
  }

  // the rrweb Replayer plugin
  return {
    onBuild(node) {
      try {
        if (isSelect(node)) showRecorded(node);
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
