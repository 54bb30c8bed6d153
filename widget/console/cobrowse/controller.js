// Co-browse of one held session, agent side: asks to see the customer's page (and for
// control), follows the server's cobrowse.state, runs the transport (the shared channel of
// widget/src/cobrowse/channel.js) while the page is shared, puts the customer's frames in
// order for the viewer, and sends the agent's guiding frames.
//
// The server's Cobrowse is the truth; this side adds its own status line: what it is
// doing, what the customer decided, and refusals (nack frames).
//
// on("change") after every change of what the panel shows.
import { Event } from "../../src/protocol.js";
import { createCobrowseChannel } from "../../src/cobrowse/channel.js";
import { createEmitter } from "../emitter.js";
import { createSequencer } from "./sequencer.js";
import { createViewer } from "./viewer.js";

const RANK = { requested: 0, active: 1, ended: 2 };
const TRANSPORT_TEXT = { connecting: "connecting…", peer: "peer-to-peer", relay: "via server" };
const NACK_WHAT = { click: "click", input: "typing", scroll: "scroll" };
const MAX_WHY = 200;
const WHY_TEXT = {
  "no control": "you do not have control",
  stale: "the page changed meanwhile, try again",
  masked: "that field is masked",
  blocked: "that part of the page is hidden from you",
  "not found": "that element is gone",
  "not a text field": "that is not a text field",
  "read-only": "that field is read-only",
};
const SYNC_AFTER_MS = 3000; // sharing but no page to show by then: ask for a fresh snapshot
const SYNC_RESUMED_MS = 800; // sooner when this console joins a sharing under way (a reload)
const SYNC_EVERY_MS = 5000;
const SYNC_TRIES = 5;

function ackError(ack, fallback) {
  return (ack && ack.error && typeof ack.error.message === "string" && ack.error.message) || fallback;
}

function validCobrowse(c) {
  return Boolean(c && typeof c === "object" && typeof c.cobrowse_id === "string" && typeof c.state === "string");
}

export function endedText(reason) {
  if (reason === "declined") return "Declined: the customer chose not to share their page.";
  if (reason === "stopped by customer") return "Stopped by the customer.";
  if (reason === "stopped by agent") return "Stopped.";
  if (reason === "session ended") return "Stopped: the conversation left the live state.";
  return "Stopped.";
}

export function transportText(kind) {
  return TRANSPORT_TEXT[kind] || "";
}

export function createCobrowseController({ sessionId, request, customerName = () => "the customer", log = () => {} }) {
  const events = createEmitter();
  const sequencer = createSequencer();
  const viewer = createViewer({ label: "The customer's page", log });
  let cobrowse = null; // the latest Cobrowse of this session (requested, active or just ended)
  let channel = null;
  let channelFor = ""; // the cobrowse_id the channel serves
  let transport = null; // "connecting" | "peer" | "relay" while the page is shared
  let status = ""; // the status line
  let busy = ""; // "request" | "control" | "stop" while its ack is awaited
  let hidden = false; // the customer's tab is hidden
  let destroyed = false;
  let syncTimer = 0;
  let syncTries = 0;
  let lastSync = -Infinity;

  function changed() {
    if (!destroyed) events.emit("change");
  }

  const active = () => Boolean(cobrowse && cobrowse.state === "active");

  // {"t":"sync"}: we have no snapshot of the recording under way (this console reloaded,
  // or joined late): the customer's page starts a fresh one
  function askForSnapshot() {
    if (!channel || !active() || performance.now() - lastSync < SYNC_EVERY_MS - 100) return;
    lastSync = performance.now();
    log("asking for a fresh snapshot");
    channel.send({ t: "sync" });
  }

  function watchForPage(delay = SYNC_AFTER_MS) {
    clearTimeout(syncTimer);
    syncTimer = setTimeout(() => {
      syncTimer = 0;
      if (!channel || !active() || viewer.showing) return;
      askForSnapshot();
      syncTries += 1;
      if (syncTries < SYNC_TRIES) watchForPage(SYNC_EVERY_MS);
    }, delay);
  }

  function closeChannel() {
    clearTimeout(syncTimer);
    syncTimer = 0;
    if (!channel) return;
    channel.close();
    channel = null;
    channelFor = "";
    transport = null;
  }

  function openChannel(id, { resumed = false } = {}) {
    if (channel && channelFor === id) return;
    closeChannel();
    sequencer.reset();
    viewer.clear();
    hidden = false;
    channelFor = id;
    transport = "connecting";
    channel = createCobrowseChannel({
      role: "viewer",
      sessionId,
      cobrowseId: id,
      request,
      onFrame,
      onTransport: (kind) => {
        transport = kind;
        changed();
      },
      log,
    });
    syncTries = 0;
    watchForPage(resumed ? SYNC_RESUMED_MS : SYNC_AFTER_MS);
  }

  function statusFor(next, before) {
    const who = customerName();
    const Who = who.charAt(0).toUpperCase() + who.slice(1);
    if (next.state === "requested") return `Asking ${who} to share their page…`;
    if (next.state === "ended") return endedText(next.reason);
    // active
    const was = before && before.cobrowse_id === next.cobrowse_id ? before : null;
    if (next.control === "requested") return `Sharing. Asking ${who} for control…`;
    if (next.control === "granted") return `Sharing. ${Who} gave you control: click, scroll and type on their page.`;
    if (was && was.control === "requested") return `Sharing. ${Who} declined control.`;
    if (was && was.control === "granted") return `Sharing. ${Who} took back control.`;
    return "Sharing.";
  }

  // a Cobrowse from a push, an ack or the handoff
  function setCobrowse(next, { resumed = false } = {}) {
    if (!validCobrowse(next) || next.session_id !== sessionId) return;
    const before = cobrowse;
    // late news never goes back: an older co-browse's end, or an earlier state of this one
    // (an ack overtaken by the push of what came after it)
    if (before && before.cobrowse_id !== next.cobrowse_id && next.state === "ended" && before.state !== "ended") return;
    if (before && before.cobrowse_id === next.cobrowse_id && RANK[next.state] < RANK[before.state]) return;
    const same = before && before.cobrowse_id === next.cobrowse_id && before.state === next.state && before.control === next.control;
    cobrowse = next;
    if (next.state === "active") openChannel(next.cobrowse_id, { resumed });
    else closeChannel();
    // the customer just agreed: their page is taking its snapshot, the view gets ready for it
    if (before && before.cobrowse_id === next.cobrowse_id && before.state === "requested" && next.state === "active") {
      viewer.prepare();
    }
    if (next.state === "ended") {
      sequencer.reset();
      viewer.clear();
      hidden = false;
    }
    if (!same) status = statusFor(next, before);
    changed();
  }

  function onFrame(frame) {
    if (destroyed || !frame || typeof frame.t !== "string") return;
    if (frame.t === "ev") {
      for (const ready of sequencer.push(frame)) viewer.apply(ready);
      if (sequencer.stalled) askForSnapshot(); // frames of a recording whose start we missed
      return;
    }
    if (frame.t === "vis") {
      const next = frame.hidden === true;
      if (next !== hidden) {
        hidden = next;
        changed();
      }
      return;
    }
    if (frame.t === "nack") {
      const what = NACK_WHAT[frame.what] || "action";
      const raw = typeof frame.why === "string" && frame.why ? frame.why.slice(0, MAX_WHY) : "refused";
      const why = Object.prototype.hasOwnProperty.call(WHY_TEXT, raw) ? WHY_TEXT[raw] : raw;
      status = `The customer's page refused your ${what}: ${why}.`;
      changed();
    }
  }

  async function ask(kind, name, payload, fallback) {
    if (busy) return;
    busy = kind;
    changed();
    const ack = await request(name, payload);
    busy = "";
    if (destroyed) return;
    if (ack && ack.ok) setCobrowse(ack.cobrowse);
    else {
      status = ackError(ack, fallback);
      changed();
    }
  }

  viewer.on("change", changed);
  viewer.on("shown", () => {
    if (channel && active()) channel.send({ t: "shown", g: sequencer.epoch });
  });
  viewer.on("fresh", () => {
    hidden = false; // a new recording is a page (re)loading; the widget says when it is hidden
  });

  return {
    on: events.on,
    viewer,
    requestView() {
      status = `Asking ${customerName()} to share their page…`;
      return ask("request", Event.COBROWSE_REQUEST, { session_id: sessionId }, "Could not ask to see the page.");
    },
    requestControl() {
      if (!active()) return Promise.resolve();
      return ask("control", Event.COBROWSE_REQUEST, { session_id: sessionId, control: true }, "Could not ask for control.");
    },
    stop() {
      if (!cobrowse || cobrowse.state === "ended") return Promise.resolve();
      return ask("stop", Event.COBROWSE_STOP, { session_id: sessionId, cobrowse_id: cobrowse.cobrowse_id }, "Could not stop co-browsing.");
    },
    // a line for the status region
    note(text) {
      status = String(text);
      changed();
    },
    // a guiding frame to the customer's page (only while it is shared)
    send(frame) {
      if (!channel || !active()) return;
      // frames naming nodes say which recording the ids are from (the page may have moved on)
      const epoch = sequencer.epoch;
      channel.send("id" in frame && epoch !== null ? { ...frame, g: epoch } : frame);
    },
    push(name, data) {
      if (name === Event.COBROWSE_STATE) {
        setCobrowse(data);
        return;
      }
      // only the customer's side speaks to the viewer (the same agent's other tabs too get
      // what this tab sends)
      const from = data && data.from;
      if (!from || from.role !== "customer" || !data || typeof data.cobrowse_id !== "string") return;
      if (!active() || data.cobrowse_id !== cobrowse.cobrowse_id) return;
      openChannel(data.cobrowse_id);
      if (name === Event.COBROWSE_SIGNAL) channel.handleSignal(data);
      else if (name === Event.COBROWSE_DATA) channel.handleData(data);
    },
    // the handoff's `cobrowse` (null: none under way): a reloaded console resumes viewing
    resume(current) {
      if (current) setCobrowse(current, { resumed: true });
      else if (cobrowse && cobrowse.state !== "ended") setCobrowse({ ...cobrowse, state: "ended", control: "off", reason: cobrowse.reason || "" });
    },
    snapshot() {
      const info = viewer.info;
      return {
        state: cobrowse ? cobrowse.state : "idle",
        cobrowseId: cobrowse ? cobrowse.cobrowse_id : null,
        control: cobrowse && cobrowse.state === "active" ? cobrowse.control : "off",
        status,
        busy,
        hidden,
        transport,
        transportText: transportText(transport),
        href: info.href,
        title: info.title,
        width: info.width,
        height: info.height,
        scrollX: info.scrollX,
        scrollY: info.scrollY,
        showing: viewer.showing,
        stalled: sequencer.stalled,
      };
    },
    get epoch() {
      return sequencer.epoch;
    },
    get lastSeq() {
      return sequencer.lastSeq;
    },
    get channel() {
      return channel;
    },
    get active() {
      return active();
    },
    destroy() {
      destroyed = true;
      closeChannel();
      viewer.destroy();
      events.clear();
    },
  };
}
