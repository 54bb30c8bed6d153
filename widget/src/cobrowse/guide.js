// The agent's guidance drawn over the customer's page, inside the widget's shadow root (so
// never recorded, never styled by the page): the agent's pointer as a labelled dot at
// viewport coordinates, and a box around an element (by its recording id) for a few
// seconds, scrolled into view first. Neither takes pointer events.
import { nodeById } from "./recorder.js";

const HIGHLIGHT_MS = 3000;
const POINTER_IDLE_MS = 10000; // a pointer the agent stopped moving fades away

function div(className, part) {
  const el = document.createElement("div");
  el.className = className;
  el.setAttribute("data-part", part);
  el.setAttribute("aria-hidden", "true");
  el.hidden = true;
  return el;
}

function reducedMotion() {
  return !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
}

export function createGuide({ layer }) {
  const pointerEl = div("dcs-cb-pointer", "cobrowse-pointer");
  const label = document.createElement("span");
  label.className = "dcs-cb-pointer__label";
  pointerEl.append(document.createElement("span"), label);
  pointerEl.firstChild.className = "dcs-cb-pointer__dot";
  const box = div("dcs-cb-highlight", "cobrowse-highlight");
  layer.append(pointerEl, box);
  let pointerTimer = 0;
  let target = null;
  let until = 0;
  let frame = 0;

  function hidePointer() {
    clearTimeout(pointerTimer);
    pointerEl.hidden = true;
  }

  function place() {
    frame = 0;
    if (!target || !target.isConnected || performance.now() > until) {
      box.hidden = true;
      target = null;
      return;
    }
    const r = target.getBoundingClientRect();
    box.style.transform = `translate(${Math.round(r.left) - 4}px, ${Math.round(r.top) - 4}px)`;
    box.style.width = `${Math.round(r.width) + 8}px`;
    box.style.height = `${Math.round(r.height) + 8}px`;
    box.hidden = false;
    frame = requestAnimationFrame(place); // follows scrolling and layout changes
  }

  return {
    setAgent(name) {
      label.textContent = name;
    },
    pointer({ x, y }) {
      if (x == null || !Number.isFinite(x) || !Number.isFinite(y)) {
        hidePointer();
        return;
      }
      pointerEl.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
      pointerEl.hidden = false;
      clearTimeout(pointerTimer);
      pointerTimer = setTimeout(hidePointer, POINTER_IDLE_MS);
    },
    // true when drawn
    highlight({ id }) {
      const node = nodeById(id);
      const el = node && (node.nodeType === 1 ? node : node.parentElement);
      if (!el || !el.isConnected) return false;
      const r = el.getBoundingClientRect();
      if (r.bottom < 0 || r.top > window.innerHeight || r.right < 0 || r.left > window.innerWidth) {
        el.scrollIntoView({ block: "center", inline: "nearest", behavior: reducedMotion() ? "auto" : "smooth" });
      }
      target = el;
      until = performance.now() + HIGHLIGHT_MS;
      if (!frame) place();
      return true;
    },
    destroy() {
      hidePointer();
      cancelAnimationFrame(frame);
      frame = 0;
      target = null;
      pointerEl.remove();
      box.remove();
    },
  };
}
