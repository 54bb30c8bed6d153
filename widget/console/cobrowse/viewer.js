// The customer's page, rebuilt from their rrweb events by rrweb's Replayer in live mode,
// scaled to fit the panel, with the transparent overlay the guide listens on.
//
// The recording is untrusted input. The Replayer rebuilds it inside an iframe sandboxed
// with exactly "allow-same-origin" (no scripts, forms, popups or top navigation; checked
// below, and the view refuses to run in any other iframe), under the console's CSP
// (inherited by the iframe's about:blank document). The iframe is inert: no focus or
// clicks reach the replayed page; the agent acts only through the overlay, and the
// console never listens inside the replayed document.
//
// Events are applied as soon as they arrive: each gets the local arrival time as its
// timestamp, so the customer's clock (skewed or jumping) never delays the view, and the
// Replayer's timer casts it on the next animation frame.
import { EventType, IncrementalSource, Replayer } from "rrweb";
import { createEmitter } from "../emitter.js";
import { h, setText, show } from "../dom.js";
import { createFidelity, validCanvasFrame } from "./fidelity.js";

const SANDBOX = "allow-same-origin";
const MAX_RENDERED = 1000;
const MAX_PENDING = 20000; // events of an epoch held while the view is not in the page
const KEEP_EVENTS = 2000; // a live Replayer keeps every event (to seek back): we never seek

function nowMs() {
  return performance.timeOrigin + performance.now();
}

function num(value, fallback = 0) {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

// The kinds of rrweb event the view applies, with the least shape the Replayer relies on
// (anything else, forged or not, is dropped before it reaches the Replayer).
function validEvent(event) {
  if (!event || typeof event !== "object" || !event.data || typeof event.data !== "object") return false;
  const data = event.data;
  if (event.type === EventType.Meta) return Number.isFinite(data.width) && Number.isFinite(data.height);
  if (event.type === EventType.FullSnapshot) return Boolean(data.node && typeof data.node === "object" && Array.isArray(data.node.childNodes));
  if (event.type === EventType.IncrementalSnapshot) {
    if (!Number.isInteger(data.source)) return false;
    const moves = [IncrementalSource.MouseMove, IncrementalSource.TouchMove, IncrementalSource.Drag];
    return !moves.includes(data.source) || Array.isArray(data.positions);
  }
  if (event.type === EventType.Custom) return validCanvasFrame(data); // canvas frames (fidelity.js)
  return false; // Load, DomContentLoaded, other Custom and Plugin events show nothing here
}

// Every cast of a live Replayer runs as an action of its timer, on an animation frame;
// one that throws would stop that timer for good (and the view with it): contain it.
function guardTimer(replayer, log) {
  const timer = replayer.timer;
  const addAction = timer.addAction.bind(timer);
  timer.addAction = (action) =>
    addAction({
      ...action,
      doAction() {
        try {
          action.doAction();
        } catch (err) {
          log("a replayed event failed:", err);
        }
      },
    });
}

export function createViewer({ label = "The customer's page", log = () => {} } = {}) {
  const events = createEmitter();
  const root = h("div", { class: "cob-replay" }); // the Replayer's root
  const frame = h("div", { class: "cob-frame", inert: true }, root); // unscaled, customer's viewport size
  const overlay = h("div", {
    class: "cob-overlay",
    part: "cobrowse-overlay",
    tabindex: "0",
    role: "application",
    "aria-roledescription": "shared page",
    "aria-label": label,
  });
  const box = h("div", { class: "cob-box", hidden: true }, frame, overlay); // the scaled size
  const waiting = h("p", { class: "cob-waiting", text: "Waiting for the customer's page…" });
  const el = h("div", { class: "cob-stage", part: "cobrowse-view" }, waiting, box);

  let replayer = null;
  let fed = false; // the Replayer was given events (a fresh recording needs a new one)
  let warmTimer = 0;
  let pending = []; // [{seq, events}] of the current epoch, before the Replayer can be made
  let lastEventOf = new Map(); // the last event of each frame -> its seq, to time its rendering
  let docId = null; // the mirror id of the replayed document (its scroll is the window's)
  let scale = 1;
  let titleTimer = 0;
  let destroyed = false;
  const renderedAt = [];
  const info = { href: "", title: "", width: 0, height: 0, scrollX: 0, scrollY: 0 };
  let appliedSeq = 0;

  function changed() {
    events.emit("change");
  }

  function iframe() {
    return replayer ? replayer.iframe : null;
  }

  function doc() {
    const frameEl = iframe();
    try {
      return frameEl ? frameEl.contentDocument : null;
    } catch {
      return null;
    }
  }

  // rrweb makes its iframe with exactly this sandbox; never show a replay without it
  function sandboxed(frameEl) {
    return Boolean(frameEl && frameEl.getAttribute("sandbox") === SANDBOX && frameEl.sandbox.length === 1);
  }

  function fit() {
    const width = info.width;
    const height = info.height;
    const ready = Boolean(replayer && width > 0 && height > 0);
    show(box, ready);
    show(waiting, !ready);
    if (!ready) {
      el.style.removeProperty("height");
      return;
    }
    const available = el.clientWidth;
    const room = parseFloat(getComputedStyle(el).maxHeight) || height;
    if (!available) return; // not laid out (hidden): fit again when shown
    scale = Math.min(available / width, room / height, 1);
    el.style.height = `${Math.floor(height * scale)}px`; // no empty band under a wide page
    // CSSOM, not style attributes: allowed under the console's CSP
    frame.style.width = `${width}px`;
    frame.style.height = `${height}px`;
    frame.style.transform = `scale(${scale})`;
    box.style.width = `${Math.floor(width * scale)}px`;
    box.style.height = `${Math.floor(height * scale)}px`;
  }

  const resizeObserver = typeof ResizeObserver === "function" ? new ResizeObserver(() => fit()) : null;
  if (resizeObserver) resizeObserver.observe(el);

  function readTitle() {
    titleTimer = 0;
    const d = doc();
    const title = d ? String(d.title || "").slice(0, 300) : "";
    if (title !== info.title) {
      info.title = title;
      changed();
    }
  }

  function onCast(event) {
    if (lastEventOf.has(event)) {
      const seq = lastEventOf.get(event);
      lastEventOf.delete(event);
      appliedSeq = Math.max(appliedSeq, seq);
      renderedAt.push({ seq, t: performance.now() });
      if (renderedAt.length > MAX_RENDERED) renderedAt.splice(0, renderedAt.length - MAX_RENDERED);
    }
    if (event.type === EventType.FullSnapshot) {
      // once the frame that shows it is drawn: "shown" (the page then sets up its data channel)
      requestAnimationFrame(() => setTimeout(() => !destroyed && events.emit("shown"), 0));
    }
    const mutation = event.type === EventType.IncrementalSnapshot && event.data.source === IncrementalSource.Mutation;
    if (mutation) closeDialogs(event.data);
    if ((event.type === EventType.FullSnapshot || mutation) && !titleTimer) titleTimer = setTimeout(readTitle, 100);
  }

  // A modal dialog the customer closed: rrweb's Replayer only removes its open attribute,
  // which hides it but leaves it modal (in the top layer, the rest of the page inert, so
  // every point of the page is the html element). Close it for real.
  function closeDialogs(data) {
    if (!replayer || !Array.isArray(data.attributes)) return;
    const mirror = replayer.getMirror();
    for (const change of data.attributes) {
      if (!change || !change.attributes || change.attributes.open !== null) continue;
      const dialog = mirror.getNode(change.id);
      if (!dialog || dialog.nodeName !== "DIALOG" || dialog.open) continue;
      try {
        if (!dialog.matches(":modal")) continue;
        dialog.setAttribute("open", ""); // close() does nothing to a dialog without it
        dialog.close();
        dialog.removeAttribute("rr_open_mode");
      } catch (err) {
        log("could not close a replayed dialog:", err);
      }
    }
  }

  function destroyReplayer() {
    clearTimeout(warmTimer);
    warmTimer = 0;
    if (!replayer) return;
    const old = replayer;
    replayer = null;
    try {
      old.destroy();
    } catch (err) {
      log("could not destroy the replayer:", err);
    }
    root.replaceChildren();
  }

  function makeReplayer() {
    if (destroyed || !root.isConnected) return false; // rrweb needs its root in the page
    const made = new Replayer([], {
      root,
      liveMode: true,
      mouseTail: false,
      triggerFocus: false, // never move focus because the customer focused something
      pauseAnimation: false, // live mode is not "playing": keep the page's animations running
      useVirtualDom: false, // live events are applied one by one, never batched for a flush
      showWarning: false,
      UNSAFE_replayCanvas: false, // (it would allow scripts in the replay: fidelity.js draws canvas)
      plugins: [createFidelity({ log })], // selects, scrolls and canvas as on the page
    });
    const frameEl = made.iframe;
    if (!sandboxed(frameEl)) {
      made.destroy();
      throw new Error("the replay iframe is not sandboxed as expected");
    }
    frameEl.setAttribute("tabindex", "-1");
    frameEl.setAttribute("title", "Customer's page (view only)");
    made.on("event-cast", onCast);
    guardTimer(made, log);
    made.startLive(nowMs());
    replayer = made;
    fed = false;
    return true;
  }

  // what the indicators show, read from the events as they arrive
  function track(event) {
    const data = event.data;
    if (event.type === EventType.Meta) {
      info.href = typeof data.href === "string" ? data.href.slice(0, 2048) : "";
      info.width = num(data.width);
      info.height = num(data.height);
      return true;
    }
    if (event.type === EventType.FullSnapshot) {
      docId = data.node && Number.isInteger(data.node.id) ? data.node.id : null;
      const offset = data.initialOffset || {};
      info.scrollX = num(offset.left);
      info.scrollY = num(offset.top);
      return true;
    }
    if (event.type !== EventType.IncrementalSnapshot) return false;
    if (data.source === IncrementalSource.ViewportResize) {
      info.width = num(data.width, info.width);
      info.height = num(data.height, info.height);
      return true;
    }
    if (data.source === IncrementalSource.Scroll && data.id === docId) {
      info.scrollX = num(data.x, info.scrollX);
      info.scrollY = num(data.y, info.scrollY);
      return true;
    }
    return false;
  }

  function feed(seq, list) {
    let last = null;
    for (const event of list) {
      if (!validEvent(event)) continue;
      event.timestamp = nowMs();
      try {
        replayer.addEvent(event);
        fed = true;
        last = event;
      } catch (err) {
        log("an event could not be applied:", err);
      }
    }
    if (last) lastEventOf.set(last, seq);
    trimHistory();
  }

  // drop what the Replayer keeps of long-applied events (a page open for hours would
  // otherwise hold all of them); casting does not need them, events[0] stays a real event
  function trimHistory() {
    const context = replayer && replayer.service && replayer.service.state && replayer.service.state.context;
    const list = context && context.events;
    if (Array.isArray(list) && list.length > KEEP_EVENTS * 2) list.splice(0, list.length - KEEP_EVENTS);
  }

  function flushPending() {
    if (!pending.length || !makeReplayer()) return;
    const held = pending;
    pending = [];
    for (const { seq, events: list } of held) feed(seq, list);
  }

  // a frame in order: {seq, events, fresh}; `fresh` starts a new recording
  function apply({ seq, events: list, fresh }) {
    if (destroyed) return;
    if (fresh) {
      if (fed) destroyReplayer(); // (one made ahead and never fed is kept: prepare())
      pending = [];
      lastEventOf = new Map();
      docId = null;
      Object.assign(info, { href: "", title: "", width: 0, height: 0, scrollX: 0, scrollY: 0 });
      events.emit("fresh"); // ids of the last recording mean nothing any more
    }
    let moved = false;
    for (const event of list) if (validEvent(event) && track(event)) moved = true;
    if (!replayer && (fresh || pending.length)) {
      pending.push({ seq, events: list });
      if (pending.reduce((n, p) => n + p.events.length, 0) > MAX_PENDING) pending = [];
      flushPending();
    } else if (replayer) {
      feed(seq, list);
    }
    if (moved) fit();
    changed();
  }

  // the element under a point of the customer's viewport: {id, node} or null
  function nodeAt(x, y) {
    const d = doc();
    if (!d || !replayer) return null;
    let node = d.elementFromPoint(x, y);
    // down into replayed shadow roots and (same-origin) iframes, to the element itself
    for (let depth = 0; node && depth < 20; depth += 1) {
      let inner = null;
      if (node.shadowRoot) {
        inner = node.shadowRoot.elementFromPoint(x, y);
      } else if (node.localName === "iframe") {
        let sub = null;
        try {
          sub = node.contentDocument;
        } catch {
          sub = null;
        }
        if (sub) {
          const box = node.getBoundingClientRect();
          x -= box.left + node.clientLeft;
          y -= box.top + node.clientTop;
          inner = sub.elementFromPoint(x, y);
        }
      }
      if (!inner || inner === node) break;
      node = inner;
    }
    const mirror = replayer.getMirror();
    while (node && mirror.getId(node) < 1) node = node.parentElement;
    return node ? { id: mirror.getId(node), node } : null;
  }

  return {
    el,
    overlay,
    on: events.on,
    info,
    renderedAt,
    apply,
    nodeAt,
    // a client point over the overlay -> CSS px in the customer's viewport (null outside)
    toViewport(clientX, clientY) {
      if (!replayer || !info.width) return null;
      const rect = box.getBoundingClientRect();
      const x = (clientX - rect.left) / scale;
      const y = (clientY - rect.top) / scale;
      if (x < 0 || y < 0 || x > info.width || y > info.height) return null;
      return { x: Math.round(x), y: Math.round(y) };
    },
    // how far the customer's window can scroll (from the replayed document)
    scrollLimits() {
      const d = doc();
      const page = d && (d.scrollingElement || d.documentElement);
      if (!page) return { maxX: 0, maxY: 0 };
      return {
        maxX: Math.max(0, page.scrollWidth - info.width),
        maxY: Math.max(0, page.scrollHeight - info.height),
      };
    },
    // show a scroll at once (the customer's own scroll event confirms or corrects it)
    previewScroll(x, y) {
      const frameEl = iframe();
      if (frameEl && frameEl.contentWindow) frameEl.contentWindow.scrollTo(x, y);
    },
    fit,
    // The page is about to be shared: make the Replayer (its sandboxed iframe, rrweb's
    // machinery) now, while the customer's page takes its snapshot, so that the snapshot
    // only has to be rebuilt when it arrives.
    prepare() {
      if (replayer || warmTimer || destroyed) return;
      warmTimer = setTimeout(() => {
        warmTimer = 0;
        if (!replayer && !pending.length) makeReplayer();
      }, 0);
    },
    setLabel(text) {
      overlay.setAttribute("aria-label", text);
    },
    setWaitingText(text) {
      setText(waiting, text);
    },
    get replayer() {
      return replayer;
    },
    get iframe() {
      return iframe();
    },
    get appliedSeq() {
      return appliedSeq;
    },
    get showing() {
      return Boolean(replayer && info.width > 0);
    },
    clear() {
      destroyReplayer();
      pending = [];
      lastEventOf = new Map();
      Object.assign(info, { href: "", title: "", width: 0, height: 0, scrollX: 0, scrollY: 0 });
      fit();
      changed();
    },
    // the view was put into the page: make the Replayer for what was held
    attached() {
      flushPending();
      fit();
    },
    destroy() {
      destroyed = true;
      clearTimeout(titleTimer);
      clearTimeout(warmTimer);
      if (resizeObserver) resizeObserver.disconnect();
      destroyReplayer();
      events.clear();
      el.remove();
    },
  };
}
