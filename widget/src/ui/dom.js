// DOM helpers. Text always goes in as text nodes / textContent: nothing here parses HTML.
const SVG_NS = "http://www.w3.org/2000/svg";

// h("button", {part: "send", class: "btn", type: "button", onclick: fn}, "Send")
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === "part") el.setAttribute("data-part", value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

// a decorative 24x24 icon from fixed path data (never from the network)
export function icon(...paths) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of paths) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export const ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
export const ICON_CLOSE = "M6 6l12 12M18 6L6 18";
export const ICON_SEND = "M3 11.5L21 3l-8.5 18-2-7.5z";

export function show(el, visible) {
  el.hidden = !visible;
}

// write text only when it changed (live regions would announce every rewrite)
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

// Styles for a chunk loaded later (calls, co-browse), added to the shadow root (or the
// document) that holds `node`: a constructed sheet where supported, else a <style>.
export function adoptStyles(node, css) {
  const root = node.getRootNode();
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } catch (_) {
    const style = document.createElement("style");
    style.textContent = css;
    (root.host ? root : document.head).append(style);
  }
}
