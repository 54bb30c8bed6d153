// A splitter between the call and page views and the conversation: a separator the agent
// drags, or moves with the arrow keys (Home/End: smallest/largest), to give the media more
// or less of the column. The share is kept in localStorage and set as a CSS variable
// through the CSSOM (the console's CSP allows no inline style attributes).
import { h, setAttr } from "../dom.js";

const KEY = "dcs.console.media-share";
const MIN = 15;
const MAX = 75;
const STEP = 5;

function load() {
  try {
    const value = Number(localStorage.getItem(KEY));
    return Number.isFinite(value) && value >= MIN && value <= MAX ? value : 60;
  } catch {
    return 60;
  }
}

export function createSplitter({ column, label = "Resize the call and page views" }) {
  let share = load();
  const el = h("div", {
    part: "media-splitter",
    class: "splitter",
    role: "separator",
    tabindex: "0",
    "aria-orientation": "horizontal",
    "aria-label": label,
    "aria-valuemin": String(MIN),
    "aria-valuemax": String(MAX),
  });

  function set(value, keep = true) {
    share = Math.round(Math.min(MAX, Math.max(MIN, value)));
    column.style.setProperty("--media-share-n", String(share));
    setAttr(el, "aria-valuenow", String(share));
    setAttr(el, "aria-valuetext", `Call and page views: ${share}% of the column`);
    if (keep) {
      try {
        localStorage.setItem(KEY, String(share));
      } catch {
        // not remembered then
      }
    }
  }

  el.addEventListener("keydown", (e) => {
    const moves = { ArrowUp: -STEP, ArrowDown: STEP };
    if (e.key in moves) set(share + moves[e.key]);
    else if (e.key === "Home") set(MIN);
    else if (e.key === "End") set(MAX);
    else return;
    e.preventDefault();
  });
  el.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    el.setPointerCapture(e.pointerId);
    const box = column.getBoundingClientRect();
    const move = (m) => set(((m.clientY - box.top) / box.height) * 100, false);
    const up = () => {
      el.removeEventListener("pointermove", move);
      set(share); // keep where it was let go
    };
    el.addEventListener("pointermove", move);
    el.addEventListener("pointerup", up, { once: true });
  });
  set(share, false);
  return { el, set };
}
