// Remote control: the agent's click, scroll and input frames, applied on the customer's
// page only while control is granted, and never to what the privacy policy hides: the
// widget itself, [data-dcs-block] and [data-dcs-mask] content, passwords, and inputs the
// site did not allow. The policy is checked on arrival as when recording: across open shadow
// roots and same-origin iframes (a mask on a host or an iframe covers what is inside). Every
// refusal is answered with a nack the agent's console shows.
import { BLOCK_SELECTOR, MASK_SELECTOR, allowedInput, allowedNames, closestAcross, inputType } from "./privacy.js";
import { nodeById } from "./recorder.js";

const TEXT_FIELDS = new Set(["text", "search", "email", "tel", "url", "number"]);

function elementOf(node) {
  if (!node) return null;
  return node.nodeType === 1 ? node : node.parentElement;
}

// why a node may not be touched, or "" when it may
export function refusal(node) {
  const el = elementOf(node);
  if (!el || !el.isConnected) return "not found";
  if (closestAcross(el, BLOCK_SELECTOR)) return "blocked";
  if (closestAcross(el, MASK_SELECTOR)) return "masked";
  return "";
}

// the setter of the element's own prototype, so frameworks that track value see the change
function setValue(el, value) {
  const proto = Object.getPrototypeOf(el);
  const desc = Object.getOwnPropertyDescriptor(proto, "value");
  if (desc && desc.set) desc.set.call(el, value);
  else el.value = value;
}

// an event of the element's own window (it may be in an iframe), crossing shadow roots as
// the browser's own input events do
function fire(el, type) {
  const view = (el.ownerDocument && el.ownerDocument.defaultView) || window;
  el.dispatchEvent(new view.Event(type, { bubbles: true, composed: type === "input" }));
}

// policy: the site's co-browse policy; granted(): control is granted right now;
// fresh(frame): the frame's ids belong to the current recording. Returns a nack or null.
export function createControl({ policy, granted, fresh }) {
  const allowed = allowedNames(policy);

  function click(frame) {
    const node = nodeById(frame.id);
    const why = refusal(node);
    if (why) return why;
    const el = elementOf(node);
    if (inputType(el) === "password") return "masked";
    if (typeof el.click === "function") el.click();
    else el.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, view: window }));
    return "";
  }

  function input(frame) {
    const el = elementOf(nodeById(frame.id));
    const why = refusal(el);
    if (why) return why;
    if (inputType(el) === "password" || inputType(el) === "hidden") return "masked";
    const field =
      (el.tagName === "INPUT" && TEXT_FIELDS.has(el.type)) || el.tagName === "TEXTAREA" || el.tagName === "SELECT";
    if (!field) return "not a text field";
    if (!allowedInput(el, allowed)) return "masked";
    if (el.disabled || el.readOnly) return "read-only";
    setValue(el, String(frame.value == null ? "" : frame.value).slice(0, 10000));
    fire(el, "input");
    fire(el, "change");
    return "";
  }

  function scroll(frame) {
    const x = Number(frame.x);
    const y = Number(frame.y);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return "bad position";
    window.scrollTo(Math.max(0, x), Math.max(0, y));
    return "";
  }

  const actions = { click, input, scroll };

  return {
    // frame: {t: "click" | "input" | "scroll", ...}; returns a nack frame or null
    apply(frame) {
      const what = frame.t;
      let why;
      if (!granted()) why = "no control";
      else if (what !== "scroll" && !fresh(frame)) why = "stale";
      else why = actions[what](frame);
      return why ? { t: "nack", what, why } : null;
    },
  };
}
