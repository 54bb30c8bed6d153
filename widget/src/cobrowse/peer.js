// The co-browse RTCPeerConnection of one side (docs/protocol.md, "Co-browse → Transport"):
// one pre-negotiated data channel (id 0, "dcs-cobrowse", ordered, reliable) and no media.
//
// * The sharer (customer) is the only offerer, so offers never collide. It re-sends an
//   offer nobody answered (a viewer that joined later still gets it, with the candidates
//   gathered so far inside the SDP), restarts ICE when it fails or stays disconnected, and
//   starts over on a fresh connection with a new pc_id when a restart does not help or the
//   channel is closed from the other side (the viewer reloaded).
// * The viewer (agent) answers: an offer with a pc_id it does not know replaces its
//   connection, one with the current pc_id (an ICE restart) is answered on it.
//
// Signaling steps run in order on one promise chain, the first of which loads the ICE
// servers; nothing here throws into its caller.

const LABEL = "dcs-cobrowse";
const DISCONNECT_GRACE_MS = 3000; // "disconnected" this long: restart ICE
const RESTART_GIVE_UP_MS = 10000; // a restart that did not reconnect: start over
const FIRST_RESEND_MS = 4000; // an offer nobody answered: send it again, then less often
const MAX_RESEND_MS = 30000;
const EARLY_LIMIT = 200;

export function newPcId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return `c${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

// send(signal): {pc_id, description} or {pc_id, candidate}. loadConfig() -> RTCConfiguration.
// onChannel(dc): a fresh connection's data channel (not yet open). onConnection(state): its
// connectionState. onViewer(): a viewer connection that replaced another answered (sharer).
export function createPeer({ role, send, loadConfig, onChannel = () => {}, onConnection = () => {}, onViewer = () => {}, log = () => {} }) {
  const offerer = role === "sharer";
  let config = {};
  let pc = null;
  let pcId = null;
  let remotePcId = null;
  let lastViewer = null; // the viewer pc_id that last answered us
  let early = []; // [pc_id, candidate] for a description still to come
  let closed = false;
  let graceTimer = 0;
  let giveUpTimer = 0;
  let resendTimer = 0;
  let resendDelay = FIRST_RESEND_MS;
  let failures = 0; // fresh starts in a row that never connected: back off
  let chain = Promise.resolve()
    .then(loadConfig)
    .then((value) => {
      config = value || {};
    })
    .catch((err) => log("no ICE servers, trying without:", err));

  function run(job) {
    chain = chain.then(() => (closed ? undefined : job())).catch((err) => log("a signaling step failed:", err));
    return chain;
  }

  function clearTimers() {
    clearTimeout(graceTimer);
    clearTimeout(giveUpTimer);
    clearTimeout(resendTimer);
    graceTimer = giveUpTimer = resendTimer = 0;
  }

  function dispose(target) {
    if (!target) return;
    target.onnegotiationneeded = target.onicecandidate = null;
    target.oniceconnectionstatechange = target.onconnectionstatechange = null;
    try {
      target.close();
    } catch (_) {
      /* already closed */
    }
  }

  function fresh() {
    dispose(pc);
    clearTimers();
    const id = newPcId();
    const next = new RTCPeerConnection(config);
    pc = next;
    pcId = id;
    remotePcId = null;
    const dc = next.createDataChannel(LABEL, { negotiated: true, id: 0, ordered: true });
    next.onicecandidate = (e) => {
      if (next === pc && e.candidate && e.candidate.candidate) send({ pc_id: id, candidate: e.candidate.toJSON() });
    };
    next.oniceconnectionstatechange = () => next === pc && iceChanged(next);
    next.onconnectionstatechange = () => {
      if (next !== pc) return;
      if (next.connectionState === "connected") {
        failures = 0;
        clearTimers();
      }
      onConnection(next.connectionState);
    };
    if (offerer) {
      next.onnegotiationneeded = () => run(() => offer(next));
      dc.addEventListener("close", () => {
        // closed from the other side (or by a failed transport): a fresh connection
        if (next === pc && !closed) {
          log("the channel closed: starting over");
          run(() => startOver());
        }
      });
    }
    log(`new connection ${id} (${offerer ? "offering" : "answering"})`);
    onChannel(dc);
    return next;
  }

  function sendOffer(target) {
    const d = target.localDescription;
    if (d && target === pc) send({ pc_id: pcId, description: { type: d.type, sdp: d.sdp } });
  }

  function scheduleResend(target) {
    clearTimeout(resendTimer);
    resendTimer = setTimeout(() => {
      if (target !== pc || target.signalingState !== "have-local-offer") return;
      log("nobody answered the offer: sending it again");
      sendOffer(target); // its SDP now carries the candidates gathered so far
      resendDelay = Math.min(resendDelay * 2, MAX_RESEND_MS);
      scheduleResend(target);
    }, resendDelay);
  }

  async function offer(target) {
    if (target !== pc || target.signalingState !== "stable") return; // fires again when needed
    await target.setLocalDescription();
    sendOffer(target);
    resendDelay = FIRST_RESEND_MS;
    scheduleResend(target);
  }

  async function startOver() {
    const target = fresh();
    if (failures > 0) {
      // no path so far (the relay carries the frames meanwhile): do not thrash
      const wait = Math.min(2000 * 2 ** Math.min(failures, 4), 30000);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    failures += 1;
    await offer(target);
  }

  function iceChanged(target) {
    const state = target.iceConnectionState;
    if (state === "failed") restart(target);
    else if (state === "disconnected") {
      clearTimeout(graceTimer);
      graceTimer = setTimeout(() => target === pc && target.iceConnectionState === "disconnected" && restart(target), DISCONNECT_GRACE_MS);
    } else if (state === "connected" || state === "completed") {
      clearTimeout(graceTimer);
      clearTimeout(giveUpTimer);
      graceTimer = giveUpTimer = 0;
    }
  }

  function restart(target) {
    if (!offerer || target !== pc || closed || giveUpTimer) return;
    log("restarting ICE");
    if (target.remoteDescription) target.restartIce(); // negotiationneeded makes the offer
    giveUpTimer = setTimeout(() => {
      giveUpTimer = 0;
      const up = target.connectionState === "connected" || ["connected", "completed"].includes(target.iceConnectionState);
      if (target === pc && !up) {
        log("the ICE restart did not reconnect: starting over");
        run(() => startOver());
      }
    }, RESTART_GIVE_UP_MS);
  }

  async function onOffer(description, from) {
    if (offerer) return; // only the sharer offers
    const same = pc && (from || null) === remotePcId;
    const target = same ? pc : fresh();
    if (!same) remotePcId = from || null;
    await target.setRemoteDescription(description);
    await target.setLocalDescription();
    const d = target.localDescription;
    if (target === pc && d) send({ pc_id: pcId, description: { type: d.type, sdp: d.sdp } });
    await addEarly(target);
  }

  async function onAnswer(description, from) {
    if (!offerer || !pc || pc.signalingState !== "have-local-offer") return; // a late or repeated answer
    const target = pc;
    try {
      await target.setRemoteDescription(description);
    } catch (err) {
      log("the answer does not apply: starting over", err);
      await startOver();
      return;
    }
    clearTimeout(resendTimer);
    resendTimer = 0;
    remotePcId = from || null;
    if (lastViewer && remotePcId && remotePcId !== lastViewer) onViewer();
    if (remotePcId) lastViewer = remotePcId;
    await addEarly(target);
  }

  async function onCandidate(candidate, from) {
    if (!candidate || !candidate.candidate) return;
    if (!pc || !pc.remoteDescription || (from || null) !== remotePcId) {
      early.push([from || null, candidate]);
      if (early.length > EARLY_LIMIT) early.shift();
      return;
    }
    await pc.addIceCandidate(candidate).catch((err) => log("ignoring a candidate:", err));
  }

  async function addEarly(target) {
    const keep = [];
    for (const [from, candidate] of early) {
      if (from !== remotePcId) keep.push([from, candidate]);
      else if (target === pc) await target.addIceCandidate(candidate).catch((err) => log("ignoring a candidate:", err));
    }
    early = keep;
  }

  if (offerer) run(() => startOver());

  return {
    get pc() {
      return pc;
    },
    get pcId() {
      return pcId;
    },
    handle(signal) {
      const { pc_id: from, description, candidate } = signal || {};
      return run(async () => {
        if (description && description.type === "offer") await onOffer(description, from);
        else if (description && description.type === "answer") await onAnswer(description, from);
        else if (candidate) await onCandidate(candidate, from);
      });
    },
    close() {
      closed = true;
      clearTimers();
      dispose(pc);
      pc = null;
      early = [];
    },
  };
}
