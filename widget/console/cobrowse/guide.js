// The agent's hand on the customer's page, read from the transparent overlay over the
// replay (never from inside the replayed document): the pointer, highlights and, while
// the customer has granted control, clicks, scrolling (wheel or keys) and picking a field
// to type into. Coordinates go out in CSS px of the customer's viewport, ids are the
// recording's mirror ids (docs/protocol.md, "Co-browse" frames).

const POINTER_MS = 33; // ~30 pointer frames a second at most
const SCROLL_MS = 50;
const SCROLL_SETTLE_MS = 600; // after this long without wheeling, start from the replayed scroll
const LINE_PX = 40;
const TYPABLE = new Set(["text", "search", "email", "tel", "url", "number", "date", "time", "datetime-local", "month", "week", ""]);

// the last call goes out after at most `ms`; earlier ones in between are dropped
function throttle(fn, ms) {
  let last = 0;
  let timer = 0;
  let args = null;
  function run() {
    timer = 0;
    last = performance.now();
    const a = args;
    args = null;
    fn(...a);
  }
  function call(...a) {
    args = a;
    if (timer) return;
    const wait = last + ms - performance.now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  }
  call.cancel = () => {
    clearTimeout(timer);
    timer = 0;
    args = null;
  };
  return call;
}

// what a click on this replayed element lets the agent type into, if anything
export function typingTarget(node) {
  if (!node || !node.tagName) return null;
  const tag = node.tagName.toLowerCase();
  if (tag === "textarea") return { kind: "text", multiline: true };
  if (tag === "select") return { kind: "select" };
  if (tag === "input") {
    const type = String(node.getAttribute("type") || "").toLowerCase();
    if (type === "password") return { kind: "masked" };
    if (TYPABLE.has(type)) return { kind: "text", multiline: false };
  }
  return null;
}

export function createGuide({ viewer, send, canControl, highlighting, onPick = () => {}, onDone = () => {} }) {
  const overlay = viewer.overlay;
  let pointerShown = false;
  let scrollTarget = null; // {x, y} the agent is scrolling to
  let lastWheel = 0;

  const sendPointer = throttle((x, y) => {
    pointerShown = true;
    send({ t: "pointer", x, y });
  }, POINTER_MS);
  const sendScroll = throttle((x, y) => send({ t: "scroll", x, y }), SCROLL_MS);

  function hidePointer() {
    sendPointer.cancel();
    if (!pointerShown) return;
    pointerShown = false;
    send({ t: "pointer", x: null });
  }

  function onMove(event) {
    const point = viewer.toViewport(event.clientX, event.clientY);
    if (point) sendPointer(point.x, point.y);
    else hidePointer();
  }

  function onClick(event) {
    const point = viewer.toViewport(event.clientX, event.clientY);
    if (!point) return;
    const hit = viewer.nodeAt(point.x, point.y);
    if (!hit) return;
    if (highlighting()) {
      send({ t: "highlight", id: hit.id });
      onDone("highlight", hit);
      return;
    }
    if (!canControl()) return;
    send({ t: "click", id: hit.id });
    const target = typingTarget(hit.node);
    onPick(target ? { id: hit.id, node: hit.node, ...target } : null);
  }

  function scrollBy(dx, dy) {
    const now = performance.now();
    const info = viewer.info;
    const base = scrollTarget && now - lastWheel < SCROLL_SETTLE_MS ? scrollTarget : { x: info.scrollX, y: info.scrollY };
    lastWheel = now;
    const { maxX, maxY } = viewer.scrollLimits();
    const x = Math.round(Math.min(maxX, Math.max(0, base.x + dx)));
    const y = Math.round(Math.min(maxY, Math.max(0, base.y + dy)));
    if (x === Math.round(base.x) && y === Math.round(base.y)) return; // at the edge already
    scrollTarget = { x, y };
    viewer.previewScroll(x, y);
    sendScroll(x, y);
  }

  function onWheel(event) {
    if (!canControl() || !viewer.showing) return; // the console scrolls as usual
    event.preventDefault();
    const unit = event.deltaMode === 1 ? LINE_PX : event.deltaMode === 2 ? viewer.info.height : 1;
    scrollBy(event.deltaX * unit, event.deltaY * unit);
  }

  function onKey(event) {
    if (event.key === "Escape" && highlighting()) {
      event.preventDefault();
      onDone("escape");
      return;
    }
    if (!canControl() || !viewer.showing || event.altKey || event.ctrlKey || event.metaKey) return;
    const page = Math.max(LINE_PX, viewer.info.height * 0.9);
    const moves = {
      ArrowDown: [0, LINE_PX],
      ArrowUp: [0, -LINE_PX],
      ArrowRight: [LINE_PX, 0],
      ArrowLeft: [-LINE_PX, 0],
      PageDown: [0, page],
      PageUp: [0, -page],
      " ": [0, event.shiftKey ? -page : page],
      Home: [0, -1e9], // clamped to the top and bottom
      End: [0, 1e9],
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    scrollBy(move[0], move[1]);
  }

  overlay.addEventListener("mousemove", onMove);
  overlay.addEventListener("mouseleave", hidePointer);
  overlay.addEventListener("click", onClick);
  overlay.addEventListener("wheel", onWheel, { passive: false });
  overlay.addEventListener("keydown", onKey);

  return {
    hidePointer,
    destroy() {
      sendPointer.cancel();
      sendScroll.cancel();
      overlay.removeEventListener("mousemove", onMove);
      overlay.removeEventListener("mouseleave", hidePointer);
      overlay.removeEventListener("click", onClick);
      overlay.removeEventListener("wheel", onWheel);
      overlay.removeEventListener("keydown", onKey);
    },
  };
}
