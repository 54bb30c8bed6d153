// The co-browse privacy policy, applied on the customer's device: whatever it masks never
// leaves the browser. The rules (README, "Co-browse privacy"):
// - every input's value is masked unless the site allows the input by name or id; hidden
//   inputs' values are never sent, not even when allowed; passwords, payment card fields
//   (autocomplete="cc-..."), one-time codes and anything under [data-dcs-mask] are masked
//   even then; an allowed input shows each character as it is typed, except that anything
//   that looks like a payment card number or an e-mail address is still masked (see scrub());
// - checkboxes and radio buttons show their checked state only when allowed;
// - text typed into an editable element ([contenteditable]) is masked unless it is allowed;
// - under [data-dcs-mask], text keeps its length and line breaks but no character, and an
//   element keeps only what its layout needs (tag, class, id, style, size);
// - [data-dcs-block] elements are replaced by a placeholder of the same size;
// - all of it crosses open shadow roots and same-origin iframes: a mask or block on a
//   shadow host or an iframe covers everything inside.
// recordOptions() has rrweb apply these where it can; redact.js applies all of them to
// every event before it is emitted.

export const MASK_SELECTOR = "[data-dcs-mask]";
export const BLOCK_SELECTOR = "[data-dcs-block], #dcs-widget-root";
const WIDGET_ID = "dcs-widget-root";

// The element itself carries a mask / is blocked: the selectors above as attribute tests,
// for code that asks of every node (a 10,000-node snapshot), where matches() costs more.
export function isMasked(el) {
  return el.hasAttribute("data-dcs-mask");
}
export function isBlocked(el) {
  return el.hasAttribute("data-dcs-block") || el.id === WIDGET_ID;
}

// Six or more digits, grouped or not: card numbers, and the prefixes of one being typed
// (from the sixth digit on; the first six of a card number are its issuer's, which PCI DSS
// lets be shown).
const DIGITS = /\d(?:[ -]?\d){5,}/g;
// Any word with an @ in it: e-mail addresses, whole or half typed.
const AT_WORD = /\S*@\S*/g;
// The word still being typed, and what makes it look like the start of an e-mail address
// before its @ is typed: a dot, underscore, plus or percent followed by more ("sam.cnry";
// not a full stop at its end).
const LAST_WORD = /\S+$/;
const ADDRESS_START = /[._+%]\S/;

// An input's value as it may leave the device when masked: one "*" per character (line
// breaks of a text area kept).
export function mask(text) {
  return String(text == null ? "" : text).replace(/[^\r\n]/gu, "*");
}

// Characters as wide as two Latin ones (CJK, full-width forms, emoji): a wide mark keeps the
// line as long, and breakable as the original is.
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F000}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u;
const INVISIBLE = /[\p{M}\p{Cf}]/u;

// Page text as it may leave the device when masked: the same length and line structure
// (whitespace, line breaks, non-breaking spaces kept), every other character an "x" (about
// as wide as the average letter or digit in common fonts), or a wide mark for a wide one;
// combining and invisible characters dropped. Masking masked text changes nothing.
export function maskText(text) {
  return String(text == null ? "" : text).replace(/\S/gu, (ch) => (INVISIBLE.test(ch) ? "" : WIDE.test(ch) ? "\u3013" : "x"));
}

// Text of an allowed input, as it may leave the device: each character as it is typed, but
// card numbers and e-mail addresses masked. While the customer is typing in it, the word
// being typed is held back (masked) only when it looks like the start of an address, so a
// "first.last" is not sent before its @ arrives; a plain word shows letter by letter.
export function scrub(text, typing = false) {
  const out = String(text || "").replace(DIGITS, mask).replace(AT_WORD, mask);
  return typing ? out.replace(LAST_WORD, (word) => (ADDRESS_START.test(word) ? mask(word) : word)) : out;
}

// The node "above" this one, across boundaries: the parent, a shadow root's host, or a
// same-origin iframe's element for its document (null for a cross-origin parent).
export function parentAcross(node) {
  if (!node) return null;
  if (node.parentNode) return node.parentNode;
  if (node.nodeType === 11 && node.host) return node.host;
  if (node.nodeType === 9) {
    try {
      return (node.defaultView && node.defaultView.frameElement) || null;
    } catch (_) {
      return null;
    }
  }
  return null;
}

// Element.closest() that does not stop at a shadow root or an iframe's document.
export function closestAcross(node, selector) {
  for (let n = node; n; n = parentAcross(n)) {
    if (n.nodeType === 1 && n.matches(selector)) return n;
  }
  return null;
}

// the names/ids of inputs the site lets the agent see (and, with control, type into)
export function allowedNames(policy = {}) {
  return new Set(Array.isArray(policy.allowInputs) ? policy.allowInputs.filter((v) => typeof v === "string" && v) : []);
}

export function inputType(element) {
  return String((element && element.getAttribute && element.getAttribute("type")) || (element && element.type) || "").toLowerCase();
}

// Fields the policy masks whatever the site allows: what their autocomplete says they hold
// (a payment card's number, code, expiry or holder; a password; a one-time code).
const SECRET_AUTOCOMPLETE = new Set(["current-password", "new-password", "one-time-code"]);
function secretField(element) {
  const tokens = String(element.getAttribute("autocomplete") || "").toLowerCase().split(/\s+/);
  return tokens.some((token) => token.startsWith("cc-") || SECRET_AUTOCOMPLETE.has(token));
}

// An input (or editable element) whose value the agent may see and type into.
export function allowedInput(element, allowed) {
  if (!element || element.nodeType !== 1) return false;
  const type = inputType(element);
  if (type === "password" || type === "hidden" || element.hasAttribute("data-rr-is-password")) return false;
  if (secretField(element)) return false;
  if (closestAcross(element, MASK_SELECTOR) || closestAcross(element, BLOCK_SELECTOR)) return false;
  const name = element.getAttribute("name");
  return Boolean((name && allowed.has(name)) || (element.id && allowed.has(element.id)));
}

// the element has the keyboard focus in its own document or shadow root
export function focused(element) {
  try {
    const root = element.getRootNode();
    return Boolean(root && root.activeElement === element);
  } catch (_) {
    return false;
  }
}

// Inputs whose value is picked, not typed word by word: no last word to hold back (a range
// or a select keeps its focus after a change, and would show a mask until the next one).
const PICKED = new Set(["range", "color", "date", "time", "month", "week", "datetime-local", "checkbox", "radio", "file"]);

// An input's value as it may leave the device, or "" (hidden inputs: never).
export function inputValue(element, text, allowed) {
  if (inputType(element) === "hidden") return "";
  if (allowedInput(element, allowed)) {
    const picked = element.localName === "select" || (element.localName === "input" && PICKED.has(inputType(element)));
    return scrub(text, !picked && focused(element));
  }
  return mask(text);
}

// rrweb record() options for a site's policy: {allowInputs: ["order", "note"]}
export function recordOptions(policy = {}) {
  const allowed = allowedNames(policy);
  return {
    // every input goes through maskInputFn, which decides (hidden ones too: rrweb's
    // maskAllInputs leaves them out)
    maskInputOptions: {
      ...Object.fromEntries(
        "color date datetime-local email month number range search tel text time url week textarea select password hidden"
          .split(" ")
          .map((type) => [type, true]),
      ),
    },
    maskInputFn: (text, element) => inputValue(element, text, allowed),
    maskTextSelector: MASK_SELECTOR,
    maskTextFn: (text) => maskText(text),
    blockSelector: BLOCK_SELECTOR,
  };
}
