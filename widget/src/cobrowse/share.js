// The customer's page as a stream of "ev" frames: rrweb events (under the privacy policy)
// batched per microtask, so a burst (a snapshot, one mutation callback) is one frame and
// nothing waits for a timer. Every recording has a new epoch `g`, with `s` counting its
// frames from 1; restart() begins a new one with a fresh snapshot (after a page load, a
// lost connection, or when a new viewer needs one). Also reports the tab's visibility, and
// the page's URL when it changes without a page load (pushState, replaceState, the hash,
// going back): rrweb only tells it with a snapshot, so a Meta event is added to the stream.
import { startRecording } from "./recorder.js";

const MIN_RESTART_GAP_MS = 1000; // restarts asked for in a burst make one new snapshot
const META = 4; // rrweb's EventType.Meta

// Calls onChange(href) when the URL changes without a page load. Returns stop().
function watchLocation(onChange) {
  let last = location.href;
  const check = () => {
    if (location.href === last) return;
    last = location.href;
    onChange(last);
  };
  const restore = [];
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    if (typeof original !== "function") continue;
    let on = true;
    const wrapped = function (...args) {
      const out = original.apply(this, args);
      if (on) check();
      return out;
    };
    history[name] = wrapped;
    restore.push(() => {
      on = false;
      if (history[name] === wrapped) history[name] = original; // unless the page wrapped it since
    });
  }
  window.addEventListener("popstate", check);
  window.addEventListener("hashchange", check);
  return () => {
    window.removeEventListener("popstate", check);
    window.removeEventListener("hashchange", check);
    for (const undo of restore) undo();
  };
}

let lastEpoch = 0;
let recordings = 0; // on this page
function nextEpoch() {
  lastEpoch = Math.max(Date.now(), lastEpoch + 1); // grows across page loads too
  return lastEpoch;
}

// send(frame): the channel's send. Returns {epoch, startedAt, firstOnPage, restart(), stop()}.
export function startSharing({ policy, send, log = () => {} }) {
  let g = 0;
  let s = 0;
  let batch = [];
  let stopRecording = null;
  let startedAt = 0;
  let restartTimer = 0;
  let stopped = false;
  let push = () => {}; // adds an event to the current recording's stream

  function flush() {
    if (!batch.length || stopped) return;
    const e = batch;
    batch = [];
    s += 1;
    send({ t: "ev", g, s, e });
  }

  function begin() {
    if (stopRecording) stopRecording();
    flush();
    g = nextEpoch();
    s = 0;
    recordings += 1;
    startedAt = performance.now();
    const epoch = g;
    const emit = (event) => {
      if (stopped || epoch !== g) return;
      if (!batch.length) queueMicrotask(flush);
      batch.push(event);
    };
    push = emit;
    stopRecording = startRecording({ policy, emit });
    flush(); // the Meta and FullSnapshot, emitted synchronously: the epoch's first frame
    log(`recording, epoch ${g}`);
    send({ t: "vis", hidden: document.visibilityState === "hidden" });
  }

  const onVisibility = () => {
    flush();
    if (!stopped) send({ t: "vis", hidden: document.visibilityState === "hidden" });
  };

  document.addEventListener("visibilitychange", onVisibility);
  const stopWatching = watchLocation((href) =>
    push({ type: META, data: { href, width: window.innerWidth, height: window.innerHeight }, timestamp: Date.now() }),
  );
  begin();

  return {
    get epoch() {
      return g;
    },
    get startedAt() {
      return startedAt;
    },
    // the page's first recording: until the agent's view has it, ids they send may be
    // the last page's (rrweb counts ids from 1 on every page)
    get firstOnPage() {
      return recordings === 1;
    },
    restart() {
      if (stopped || restartTimer) return;
      const wait = Math.max(0, startedAt + MIN_RESTART_GAP_MS - performance.now());
      restartTimer = setTimeout(() => {
        restartTimer = 0;
        if (!stopped) begin();
      }, wait);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(restartTimer);
      document.removeEventListener("visibilitychange", onVisibility);
      stopWatching();
      batch = [];
      if (stopRecording) stopRecording();
      stopRecording = null;
    },
  };
}
