// The co-browse transport of one side, for one co-browse (docs/protocol.md, "Co-browse"):
// frames go peer to peer over the data channel when it is open and its connection is up,
// else through the server (cobrowse.data, one piece per event, small ones written against the
// last few relayed: relaycodec.js). Both paths are read at all
// times; the receiver orders what needs ordering ("ev" frames by `s`), this only delivers.
//
//   createCobrowseChannel({role: "sharer" | "viewer", sessionId, cobrowseId, request,
//     onFrame, onTransport, onLoss, onViewer, log})
//   -> {send(obj), startPeer(), handleSignal(push), handleData(push), transport, pc, stats(), close()}
//
// onTransport("connecting" | "peer" | "relay"): "connecting" while a fresh channel is
// given a few seconds to open (frames meanwhile take the relay). onLoss(): frames handed to
// a channel that then closed may not have arrived (or the backlog overflowed): the sharer
// starts a fresh recording. onViewer() (sharer): another viewer connection answered.
//
// The sharer sets up its peer connection once the console shows the page (startPeer(), on
// the viewer's "shown" frame), or after PEER_AFTER_MS: the first snapshot goes through the
// relay anyway (a data channel takes longer to open than a snapshot to arrive), and ICE,
// DTLS and the console's answer would otherwise run on the same cores, at the same time,
// as the snapshot's encoding on the page and its rebuilding in the console.
import { Event } from "../protocol.js";
import { encodeFrame, createAssembler } from "./frames.js";
import { pack, unpack } from "./compress.js";
import { createPeer } from "./peer.js";
import { createRelayDecoder, createRelayEncoder } from "./relaycodec.js";
import { rtcConfiguration } from "../rtcconfig.js";

const OPEN_WAIT_MS = 3000; // a fresh channel that is not open by then: relay
const HIGH_WATER = 2 << 20; // bytes waiting in the data channel before we hold back
const LOW_WATER = 512 << 10;
const RELAY_WINDOW = 16; // pieces on their way through the server at once
const MAX_BACKLOG = 16 << 20; // characters waiting: beyond this, drop them and start afresh
const TRANSIENT = new Set(["offline", "timeout", "rate_limited", "internal", "bad_ack"]);
const PEER_AFTER_MS = 1500;

export function createCobrowseChannel({
  role,
  sessionId,
  cobrowseId,
  request,
  onFrame,
  onTransport = () => {},
  onLoss = () => {},
  onViewer = () => {},
  log = () => {},
}) {
  const ids = { session_id: sessionId, cobrowse_id: cobrowseId };
  const assembler = createAssembler();
  const relayOut = createRelayEncoder();
  const relayIn = createRelayDecoder();
  let lastReset = -Infinity; // when we last asked the other side to start its relay afresh
  const counts = { framesSent: 0, framesReceived: 0, bytesPeer: 0, bytesRelay: 0, piecesPeer: 0, piecesRelay: 0, losses: 0 };
  let queue = []; // pieces waiting to go
  let backlog = 0; // their characters
  let dc = null; // the current connection's data channel
  let dcUsed = false; // whether it carried anything
  let connection = "new";
  let waitTimer = 0;
  let transport = "connecting";
  let inFlight = 0; // relay requests without an ack yet
  let relayPause = 0; // a timer while the relay said "later"
  let closed = false;

  function setTransport(next) {
    if (next === transport || closed) return;
    transport = next;
    log(`transport: ${next}`);
    onTransport(next);
  }

  function peerUp() {
    return !!dc && dc.readyState === "open" && connection !== "disconnected" && connection !== "failed";
  }

  function updateTransport() {
    setTransport(peerUp() ? "peer" : waitTimer ? "connecting" : "relay");
    pump();
  }

  // Frames are packed (deflated when big) and unpacked asynchronously: each side runs
  // them through one promise chain, so they still go and arrive in the order given.
  let inbox = Promise.resolve();
  let outbox = Promise.resolve();

  function deliver(text) {
    const packed = assembler.push(text);
    if (!packed || closed) return;
    inbox = inbox
      .then(() => unpack(packed))
      .then((obj) => {
        if (!obj || closed) return;
        if (obj.t === "rz") {
          // the other side missed relayed frames (it lacks what later ones were written
          // against): start the relay afresh, and what was lost is lost (the sharer sends a
          // fresh snapshot)
          if (obj.s === relayOut.sender) {
            relayOut.reset();
            lost();
          }
          return;
        }
        counts.framesReceived += 1;
        onFrame(obj);
      })
      .catch((err) => log("a frame handler failed:", err));
  }

  function lost() {
    counts.losses += 1;
    onLoss();
  }

  function adopt(next) {
    dc = next;
    dcUsed = false;
    connection = "new";
    next.bufferedAmountLowThreshold = LOW_WATER;
    next.onopen = () => next === dc && updateTransport();
    next.onclose = () => {
      if (next !== dc) return;
      if (dcUsed) lost();
      dcUsed = false;
      updateTransport();
    };
    next.onmessage = (e) => typeof e.data === "string" && deliver(e.data);
    next.onbufferedamountlow = () => next === dc && pump();
    clearTimeout(waitTimer);
    waitTimer = setTimeout(() => {
      waitTimer = 0;
      updateTransport();
    }, OPEN_WAIT_MS);
    updateTransport();
  }

  let peer = null;
  let peerTimer = 0;
  const makePeer = () => createPeer({
    role,
    log,
    send: (signal) => {
      if (!closed) request(Event.COBROWSE_SIGNAL, { ...ids, ...signal });
    },
    loadConfig: () =>
      request(Event.RTC_CONFIG, { session_id: sessionId }).then((ack) => {
        if (!ack.ok) throw new Error((ack.error && ack.error.message) || "rtc.config failed");
        return rtcConfiguration(ack);
      }),
    onChannel: (next) => {
      const old = dc;
      if (old && old !== next) {
        old.onopen = old.onclose = old.onmessage = old.onbufferedamountlow = null;
        if (dcUsed) lost(); // what it still held is gone with it
      }
      adopt(next);
    },
    onConnection: (state) => {
      connection = state;
      updateTransport();
    },
    onViewer: () => !closed && onViewer(),
  });

  function startPeer() {
    clearTimeout(peerTimer);
    peerTimer = 0;
    if (!peer && !closed) peer = makePeer();
  }
  if (role === "sharer") peerTimer = setTimeout(startPeer, PEER_AFTER_MS);
  else startPeer();

  function sendPeer(piece) {
    try {
      dc.send(piece);
    } catch (err) {
      log("the data channel refused a piece:", err);
      return false;
    }
    dcUsed = true;
    counts.bytesPeer += piece.length;
    counts.piecesPeer += 1;
    return true;
  }

  function sendRelay(piece) {
    inFlight += 1;
    const { wire, n } = relayOut.encode(piece);
    request(Event.COBROWSE_DATA, { ...ids, frame: wire }).then((ack) => {
      inFlight -= 1;
      if (n !== null) (ack.ok ? relayOut.acked : relayOut.failed)(n);
      if (closed) return;
      if (ack.ok) {
        counts.bytesRelay += wire.length;
        counts.piecesRelay += 1;
      } else {
        const code = ack.error && ack.error.code;
        if (TRANSIENT.has(code)) {
          queue.unshift(piece); // again, shortly (the receiver copes with the order)
          backlog += piece.length;
          if (!relayPause) {
            relayPause = setTimeout(() => {
              relayPause = 0;
              pump();
            }, code === "rate_limited" ? 500 : 1000);
          }
        } else {
          log(`the relay refused a piece (${code}): dropped`);
        }
      }
      pump();
    });
  }

  function enqueue(pieces) {
    for (const piece of pieces) {
      queue.push(piece);
      backlog += piece.length;
    }
    if (backlog > MAX_BACKLOG) {
      log("the backlog overflowed: dropping it");
      queue = [];
      backlog = 0;
      lost();
      return;
    }
    pump();
  }

  function pump() {
    while (queue.length && !closed) {
      if (peerUp()) {
        if (dc.bufferedAmount > HIGH_WATER) return; // bufferedamountlow pumps again
        if (!sendPeer(queue[0])) {
          connection = "failed"; // treat it as down until the connection says otherwise
          updateTransport();
          return;
        }
      } else {
        if (inFlight >= RELAY_WINDOW || relayPause) return;
        sendRelay(queue[0]);
      }
      backlog -= queue.shift().length;
    }
  }

  function send(obj) {
    if (closed) return;
    counts.framesSent += 1;
    outbox = outbox
      .then(() => pack(obj))
      .then((packed) => !closed && enqueue(encodeFrame(packed)))
      .catch((err) => log("a frame could not be sent:", err));
  }

  return {
    send,
    startPeer,
    handleSignal(push) {
      if (!closed && peer && push && push.cobrowse_id === cobrowseId) peer.handle(push);
    },
    handleData(push) {
      if (closed || !push || push.cobrowse_id !== cobrowseId) return;
      const text = relayIn.decode(push.frame);
      if (text) {
        deliver(text);
        return;
      }
      log("a relayed frame could not be read: dropped");
      // it names frames we never got: the sender starts afresh (at most once a second)
      if (relayIn.missing && performance.now() - lastReset > 1000) {
        lastReset = performance.now();
        send({ t: "rz", s: relayIn.missing });
      }
    },
    get transport() {
      return transport;
    },
    get pc() {
      return peer ? peer.pc : null;
    },
    stats() {
      return { ...counts, transport, queued: queue.length, bufferedAmount: dc ? dc.bufferedAmount : 0, pcId: peer ? peer.pcId : null };
    },
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(waitTimer);
      clearTimeout(relayPause);
      clearTimeout(peerTimer);
      queue = [];
      backlog = 0;
      if (dc) dc.onopen = dc.onclose = dc.onmessage = dc.onbufferedamountlow = null;
      if (peer) peer.close();
    },
  };
}
