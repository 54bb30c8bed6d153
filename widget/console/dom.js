// DOM helpers. Text always goes in as text nodes / textContent: nothing here parses HTML,
// so network data can never become markup.

let uid = 0;

// h("button", {part: "send", class: "btn", type: "button", onclick: fn}, "Send")
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === "part") el.setAttribute("data-part", value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "hidden") el.hidden = Boolean(value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// replace all children of el
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// write text only when it changed (live regions would announce every rewrite)
export function setText(el, text) {
  const value = text == null ? "" : String(text);
  if (el.textContent !== value) el.textContent = value;
}

export function setAttr(el, name, value) {
  if (value == null || value === false) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else {
    const str = value === true ? "" : String(value);
    if (el.getAttribute(name) !== str) el.setAttribute(name, str);
  }
}

export function show(el, visible) {
  if (el.hidden === Boolean(visible)) el.hidden = !visible;
}

// a unique id for label/for and aria-labelledby pairs
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// text only for assistive technology
export function srOnly(text) {
  return h("span", { class: "sr-only", text });
}

// Put `wanted` (an ordered array of elements) into `parent` with as few moves as
// possible: elements already in place stay put (keeps focus and avoids re-announcing
// live-region content), missing ones are inserted, the rest removed.
export function reconcile(parent, wanted) {
  const keep = new Set(wanted);
  for (const child of [...parent.children]) {
    if (!keep.has(child)) child.remove();
  }
  let cursor = parent.firstElementChild;
  for (const el of wanted) {
    if (el === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      parent.insertBefore(el, cursor);
    }
  }
}
