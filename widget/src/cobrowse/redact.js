// The last gate on the customer's device: every rrweb event passes through redact() before
// it is emitted, and leaves with nothing the privacy policy (privacy.js) hides. rrweb masks
// what it can on its own, but not hidden inputs, attribute values, or text under a mask it
// cannot see (inside a shadow root or an iframe whose host or element carries the mask), and
// it records the insides of shadow roots under blocked hosts. Here each serialized node is
// checked against the page's node behind its id, with ancestors looked up across shadow
// roots and same-origin iframes.
//
// What carries page content, by event: the full snapshot (a tree of nodes), DOM mutations
// (added nodes, attribute values, text values), input events (values, checked states) and,
// when canvases are recorded, their drawing commands. Everything else is positions, sizes
// and ids, or CSS.
import {
  allowedInput,
  allowedNames,
  focused,
  inputType,
  inputValue,
  isBlocked,
  isMasked,
  mask,
  maskText,
  parentAcross,
  scrub,
} from "./privacy.js";

const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const MUTATION = 0;
const INPUT = 5;
const CANVAS = 9;
const NODE_DOCUMENT = 0;
const NODE_ELEMENT = 2;
const NODE_TEXT = 3;
const NODE_CDATA = 4;
const NODE_COMMENT = 5;

// What an element under a mask keeps: what its layout needs, nothing that reads as data.
const LAYOUT = new Set(
  (
    "class id style width height type rows cols size span colspan rowspan dir hidden open slot part role " +
    "disabled readonly multiple rel media align valign border cellpadding cellspacing frameborder nowrap wrap " +
    "lang viewbox preserveaspectratio xmlns tabindex popover inert _csstext rr_width rr_height " +
    "rr_scrollleft rr_scrolltop rr_open_mode"
  ).split(" "),
);
const LABEL_TYPES = new Set(["submit", "button", "reset", "image"]); // their value is a label
const CHECKABLE = new Set(["checkbox", "radio"]);
const MARKERS = new Set(["data-dcs-mask", "data-dcs-block"]);
const CSS_URL = /url\((?:[^()'"]|'[^']*'|"[^"]*")*\)/gi;

// A masked element's style without the URLs in it (a background image's query string, say).
function styleWithoutUrls(style) {
  const strip = (v) => (typeof v === "string" ? v.replace(CSS_URL, "none") : v);
  if (typeof style === "string") return strip(style);
  if (!style || typeof style !== "object") return style;
  for (const name of Object.keys(style)) {
    style[name] = Array.isArray(style[name]) ? [strip(style[name][0]), style[name][1]] : strip(style[name]);
  }
  return style;
}

// Closed shadow roots: nothing inside can be recorded, so their hosts become empty boxes.
// Those attached from now on are seen here; for earlier ones, see closedHost().
const closedHosts = new WeakSet();
let patched = false;
function watchClosedShadowRoots() {
  if (patched || typeof Element === "undefined" || !Element.prototype.attachShadow) return;
  patched = true;
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function attachShadow(init) {
    const root = attach.call(this, init);
    if (init && init.mode === "closed") closedHosts.add(this);
    return root;
  };
}

function isField(el) {
  return el.localName === "input" || el.localName === "textarea" || el.localName === "select";
}

function rendered(node) {
  if (node.nodeType === 1) return node.getClientRects().length > 0;
  const range = node.ownerDocument.createRange();
  range.selectNodeContents(node);
  return range.getClientRects().length > 0;
}

// A custom element with a closed shadow root (no API tells): its light DOM is not laid out
// unless slotted. Also true for one with no content of its own that still takes room (an
// empty box of its size is then exactly right).
function closedHost(el) {
  if (closedHosts.has(el)) return true;
  if (el.shadowRoot || !el.localName.includes("-")) return false;
  const registry = el.ownerDocument.defaultView && el.ownerDocument.defaultView.customElements;
  if (!registry || !registry.get(el.localName) || !el.getClientRects().length) return false;
  const content = [...el.childNodes].filter((n) => n.nodeType === 1 || (n.nodeType === 3 && n.data.trim()));
  if (!content.length) {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  }
  return content.some((n) => {
    if (n.nodeType === 1 && getComputedStyle(n).display === "none") return false;
    return !rendered(n);
  });
}

// An iframe whose document this page cannot read (another origin): an empty box.
function foreignFrame(el) {
  if (el.localName !== "iframe") return false;
  try {
    return !el.contentDocument;
  } catch (_) {
    return true;
  }
}

export function createRedactor({ policy = {}, mirror }) {
  const allowed = allowedNames(policy);
  const boxed = new WeakSet(); // elements sent as empty boxes: nothing inside is sent
  let memo = null; // ancestors' {masked, hidden} during one mutation event (above())
  watchClosedShadowRoots();

  // {masked, hidden} of a node's ancestors (not the node itself), across boundaries. A
  // mutation's nodes mostly share their ancestors: `memo` (one per event) keeps what each
  // ancestor was found to be, so a batch of a thousand added rows walks their table once.
  function above(node) {
    const walked = [];
    let state = null;
    for (let n = parentAcross(node); n; n = parentAcross(n)) {
      if (memo && memo.has(n)) {
        state = memo.get(n);
        break;
      }
      walked.push(n);
    }
    // from the outermost walked ancestor in: each one's state with its own markers
    let masked = state ? state.masked : false;
    let hidden = state ? state.hidden : false;
    for (let i = walked.length - 1; i >= 0; i -= 1) {
      const n = walked[i];
      if (n.nodeType === 1 && !hidden) {
        if (boxed.has(n) || isBlocked(n)) hidden = masked = true;
        else if (isMasked(n)) masked = true;
      }
      if (memo) memo.set(n, { masked, hidden });
    }
    return { masked, hidden };
  }

  function selfMasked(node, masked) {
    return masked || (node.nodeType === 1 && isMasked(node));
  }

  function editableHost(el) {
    let host = el;
    while (host.parentElement && host.parentElement.isContentEditable) host = host.parentElement;
    return host;
  }

  // a text node's value as it may leave the device
  function textValue(node, value, masked) {
    if (value == null || value === "") return value;
    const parent = node && node.parentNode;
    const tag = parent && parent.nodeType === 1 ? parent.localName : "";
    if (tag === "style") return value; // CSS
    if (tag === "textarea") return allowedInput(parent, allowed) ? scrub(value, focused(parent)) : mask(value);
    if (masked || !node) return maskText(value);
    if (parent && parent.nodeType === 1 && parent.isContentEditable) {
      const host = editableHost(parent);
      return allowedInput(host, allowed) ? scrub(value, focused(host)) : maskText(value);
    }
    return value;
  }

  // Filters an element's attributes in place. `full`: the element's whole serialization
  // (a snapshot or an added node), not a change of some attributes.
  function attributes(el, attrs, masked, full) {
    const tag = el.localName;
    const type = tag === "input" ? inputType(el) : "";
    const field = isField(el);
    for (const name of Object.keys(attrs)) {
      const key = name.toLowerCase();
      const value = attrs[name];
      if (tag === "iframe" && (key === "src" || key === "rr_src" || key === "srcdoc")) {
        delete attrs[name]; // never loaded by the replay; the URL or markup could carry data
      } else if (field && key === "value") {
        if (type === "hidden") delete attrs[name];
        else if (LABEL_TYPES.has(type)) attrs[name] = masked && value != null ? maskText(value) : value;
        else if (CHECKABLE.has(type)) {
          if (masked) delete attrs[name]; // the option's value: page content unless masked
        } else if (value != null) {
          const current = full ? el.value : value;
          if (full && !current) delete attrs[name];
          else attrs[name] = inputValue(el, current, allowed);
        }
      } else if (key === "checked" && tag === "input") {
        if (!allowedInput(el, allowed)) delete attrs[name];
      } else if (key === "selected" && tag === "option") {
        const select = el.closest("select");
        if (!select || !allowedInput(select, allowed)) delete attrs[name];
      } else if (!masked) {
        // page content, not data the policy hides
      } else if (MARKERS.has(key)) {
        attrs[name] = value == null ? value : "";
      } else if (key === "placeholder") {
        attrs[name] = value == null ? value : maskText(value);
      } else if (key === "style") {
        attrs[name] = styleWithoutUrls(value);
      } else if (key === "href" && (tag === "a" || tag === "area")) {
        attrs[name] = value == null ? value : "#"; // still a link, to nowhere
      } else if ((key === "href" || key === "xlink:href") && tag === "use" && typeof value === "string" && value.startsWith("#")) {
        // an icon of this document
      } else if (!LAYOUT.has(key) && !key.startsWith("rr_media")) {
        delete attrs[name];
      }
    }
    if (full && masked && (tag === "img" || tag === "video" || tag === "canvas" || tag === "object" || tag === "embed")) {
      sizeOf(el, attrs); // what it showed is gone: keep the room it took
    } else if (full && tag === "canvas" && el.getClientRects().length) {
      // the replay has no scripts, so a canvas there is its fallback content, with no size
      // of its own (a flex item, say, would be 0 wide): the room it takes on the page
      sizeOf(el, attrs);
    }
  }

  function sizeOf(el, attrs) {
    const box = el.getBoundingClientRect();
    attrs.rr_width = `${box.width}px`;
    attrs.rr_height = `${box.height}px`;
  }

  // an element the replay shows as an empty box of its size, with its own class and style
  function box(el, sn) {
    boxed.add(el);
    if (memo) memo.clear(); // what was found above its descendants no longer holds
    const attrs = sn.attributes || {};
    const kept = {};
    for (const name of ["class", "id", "style", "width", "height"]) if (attrs[name] != null) kept[name] = attrs[name];
    let display = "block";
    try {
      display = getComputedStyle(el).display;
    } catch (_) {
      /* keep block */
    }
    if (display === "inline" || display === "contents") display = "inline-block";
    kept.style = `${typeof kept.style === "string" && kept.style ? `${kept.style.replace(/;\s*$/, "")};` : ""}display:${display}`;
    sizeOf(el, kept);
    sn.attributes = kept;
    sn.childNodes = [];
    delete sn.isShadowHost;
  }

  // Redacts a serialized node and its subtree in place; `masked`: an ancestor is masked.
  // Returns false when nothing of it may be sent.
  function tree(sn, masked) {
    if (!sn || typeof sn !== "object") return false;
    const node = mirror.getNode(sn.id);
    if (!node) {
      // not a node of this page (cannot happen): send it only as a masked shell
      masked = true;
    }
    if (sn.type === NODE_TEXT) {
      sn.textContent = textValue(node, sn.textContent, masked || !node);
      return true;
    }
    if (sn.type === NODE_COMMENT || sn.type === NODE_CDATA) {
      sn.textContent = "";
      return true;
    }
    let inner = masked;
    if (sn.type === NODE_ELEMENT) {
      inner = !node || selfMasked(node, masked);
      if (!node) {
        sn.attributes = {};
        sn.childNodes = [];
        return true;
      }
      if (foreignFrame(node) || closedHost(node)) {
        box(node, sn);
        return true;
      }
      attributes(node, sn.attributes || (sn.attributes = {}), inner, true);
      if (isBlocked(node)) {
        sn.childNodes = []; // rrweb sends none; and never a shadow root's
        return true;
      }
    } else if (sn.type !== NODE_DOCUMENT) {
      return true; // a doctype
    }
    if (Array.isArray(sn.childNodes)) sn.childNodes = sn.childNodes.filter((child) => tree(child, inner));
    return true;
  }

  function mutation(data) {
    memo = new Map();
    try {
      return mutationIn(data);
    } finally {
      memo = null;
    }
  }

  function mutationIn(data) {
    if (Array.isArray(data.adds)) {
      data.adds = data.adds.filter((add) => {
        const node = add && add.node && mirror.getNode(add.node.id);
        if (!node) return false;
        const { masked, hidden } = above(node);
        return !hidden && tree(add.node, masked);
      });
    }
    if (Array.isArray(data.texts)) {
      data.texts = data.texts.filter((text) => {
        const node = mirror.getNode(text.id);
        if (!node) return false;
        const { masked, hidden } = above(node);
        if (hidden) return false;
        text.value = textValue(node, text.value, masked);
        return true;
      });
    }
    if (Array.isArray(data.attributes)) {
      data.attributes = data.attributes.filter((change) => {
        const el = mirror.getNode(change.id);
        if (!el || el.nodeType !== 1 || boxed.has(el) || isBlocked(el)) return false;
        const { masked, hidden } = above(el);
        if (hidden || !change.attributes) return false;
        attributes(el, change.attributes, selfMasked(el, masked), false);
        return Object.keys(change.attributes).length > 0;
      });
    }
    const some = (list) => Array.isArray(list) && list.length > 0;
    return some(data.adds) || some(data.texts) || some(data.attributes) || some(data.removes);
  }

  function input(data) {
    const el = mirror.getNode(data.id);
    if (!el || el.nodeType !== 1 || above(el).hidden || isBlocked(el)) return false;
    const type = inputType(el);
    if (type === "hidden") return false;
    if (CHECKABLE.has(type)) return allowedInput(el, allowed); // the checked state: allowed only
    if (typeof data.text === "string") data.text = inputValue(el, data.text, allowed);
    return true;
  }

  // a canvas's drawing (text, pixels) only when nothing hides the canvas
  function canvas(data) {
    const el = mirror.getNode(data.id);
    if (!el || el.nodeType !== 1 || isBlocked(el) || isMasked(el)) return false;
    const { masked, hidden } = above(el);
    return !masked && !hidden;
  }

  // the event as it may leave the device (changed in place), or null to send nothing
  return function redact(event) {
    if (!event || typeof event !== "object") return null;
    if (event.type === FULL_SNAPSHOT) {
      return event.data && tree(event.data.node, false) ? event : null;
    }
    if (event.type === INCREMENTAL && event.data) {
      if (event.data.source === MUTATION) return mutation(event.data) ? event : null;
      if (event.data.source === INPUT) return input(event.data) ? event : null;
      if (event.data.source === CANVAS) return canvas(event.data) ? event : null;
    }
    return event;
  };
}
