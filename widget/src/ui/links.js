// Safe clickable links in message text, for the widget and the console: only http(s) URLs
// written out in full become links (never javascript:, data: or anything else), each
// opening in a new tab with rel="noopener noreferrer". Everything else stays text nodes:
// nothing is parsed as HTML.
const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"»]+$/; // "see https://x.y/a." : the full stop is not the link's

export function safeLink(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch (_) {
    return null;
  }
}

// the text as nodes: text, <a>, text, ...
export function linkify(text, doc = document) {
  const nodes = [];
  const value = String(text == null ? "" : text);
  let last = 0;
  for (const match of value.matchAll(URL_IN_TEXT)) {
    let raw = match[0];
    const tail = raw.match(TRAILING);
    if (tail) raw = raw.slice(0, -tail[0].length);
    const href = raw && safeLink(raw);
    if (!href) continue;
    if (match.index > last) nodes.push(doc.createTextNode(value.slice(last, match.index)));
    const a = doc.createElement("a");
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = raw;
    nodes.push(a);
    last = match.index + raw.length;
  }
  if (last < value.length) nodes.push(doc.createTextNode(value.slice(last)));
  return nodes;
}
