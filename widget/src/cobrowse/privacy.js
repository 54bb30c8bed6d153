// The co-browse privacy policy, applied on the customer's device: whatever it masks never
// leaves the browser. Every input is masked unless the site allows it by name or id;
// passwords and anything under [data-dcs-mask] are masked even then, and in allowed inputs
// anything that looks like (the start of) a payment card number or an e-mail address is
// still masked.
// [data-dcs-block] elements are replaced by a placeholder of the same size.

export const MASK_SELECTOR = "[data-dcs-mask]";
export const BLOCK_SELECTOR = "[data-dcs-block], #dcs-widget-root";

// Six or more digits, grouped or not: card numbers, and the prefixes of one being typed.
const DIGITS = /\d(?:[ -]?\d){5,}/g;
// Any word with an @ in it: e-mail addresses, whole or half typed.
const AT_WORD = /\S*@\S*/g;
// The word still being typed: its start could become either of the above.
const LAST_WORD = /\S+$/;

export function mask(text) {
  return "*".repeat(Math.min(String(text || "").length, 32));
}

// Text of an allowed input, as it may leave the device. While the customer is typing in it
// the last word is held back, so a card number or address is never sent half-typed.
export function scrub(text, typing = false) {
  const out = String(text || "").replace(DIGITS, mask).replace(AT_WORD, mask);
  return typing ? out.replace(LAST_WORD, mask) : out;
}

// the names/ids of inputs the site lets the agent see (and, with control, type into)
export function allowedNames(policy = {}) {
  return new Set(Array.isArray(policy.allowInputs) ? policy.allowInputs.filter((v) => typeof v === "string" && v) : []);
}

export function allowedInput(element, allowed) {
  if (!element || element.type === "password") return false;
  if (element.closest && element.closest(MASK_SELECTOR)) return false;
  return allowed.has(element.name) || allowed.has(element.id);
}

// rrweb record() options for a site's policy: {allowInputs: ["order", "note"]}
export function recordOptions(policy = {}) {
  const allowed = allowedNames(policy);
  return {
    maskAllInputs: true, // every input goes through maskInputFn, which decides
    maskInputFn: (text, element) =>
      allowedInput(element, allowed) ? scrub(text, element === document.activeElement) : mask(text),
    maskTextSelector: MASK_SELECTOR,
    maskTextFn: (text) => mask(text),
    blockSelector: BLOCK_SELECTOR,
  };
}
