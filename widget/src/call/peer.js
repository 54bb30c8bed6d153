// One participant's WebRTC link for a call: the current RTCPeerConnection, replaced by a
// fresh one when either side starts over. Signaling follows docs/protocol.md ("Calls"):
//
// * perfect negotiation: offers on `negotiationneeded`, the customer is the polite peer
//   (on colliding offers it takes the other side's; the agent keeps its own);
// * trickle ICE: every local candidate goes out as rtc.signal {candidate};
// * a `pc_id` names each RTCPeerConnection. An offer from a pc_id we do not know means the
//   other side started over (a reloaded page, or a restart that needed a new connection):
//   we answer it on a fresh connection with a new pc_id of our own. If both sides start
//   over at once, the customer's fresh offer wins (the agent answers it);
// * ICE restart (pc.restartIce()) when ICE fails, or stays "disconnected" for a few
//   seconds; when that does not bring the connection back, or an answer cannot be
//   applied, this side starts over with a fresh connection and a new pc_id;
// * the end of each gathering goes out as an end-of-candidates signal (candidate ""), so
//   the other side learns when this one has none at all; gathering that ends with no
//   candidate (a relay-only policy and a TURN server that refused us) is reported with
//   onNoPath(): no path can ever be made from this connection.
//
// Made early to save time (docs/architecture.md, "Call set-up time"):
// * startOver({hold: true}) makes the offer and gathers candidates now but keeps them
//   (the caller, while the call rings); release() sends the offer, with every candidate
//   gathered so far in it, and then trickles the rest;
// * expect(kinds): local tracks of those kinds are on their way (a microphone still
//   opening): their senders are negotiated as sending already, so the connection comes up
//   meanwhile and setTracks() later swaps the tracks in without another negotiation;
// * warm({pool}): make the next RTCPeerConnection now (the callee, while the call rings),
//   and with pool gather its candidates ahead (iceCandidatePoolSize).
//
// Every signaling step runs in order on one promise chain, so a step never sees another
// half done. The link never throws into its caller: failures are logged.

const DISCONNECT_GRACE_MS = 3000; // "disconnected" this long: restart ICE
const RESTART_GIVE_UP_MS = 8000; // a restart that did not reconnect by then: start over
const EARLY_LIMIT = 200; // candidates kept for a description still to come
const UNANSWERED_MS = 7000; // a fresh offer nobody answered (both sides started over): again
const RETIRE_MS = 1000; // a replaced connection is closed this much later, out of the new one's way

export function newPcId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return `b${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const KINDS = ["audio", "video"];

// send(signal): rtc.signal payload without session/call ids ({pc_id, description} or
// {pc_id, candidate}). onConnection("connected" | "reconnecting"). onRemote(): the remote
// tracks or what they carry changed. onTrack(track): a remote track arrived. onNoPath():
// the current connection's gathering ended with no candidate (see gathering). videoCall():
// whether a fresh offer should carry a video section even when this side sends no video (a
// video call, or the other side's camera is on); a voice call's offer is audio only, which
// sets up faster, and video joins later by renegotiation.
export function createLink({
  role,
  send,
  onConnection = () => {},
  onTrack = () => {},
  onRemote = () => {},
  onNoPath = () => {},
  videoCall = () => false,
  log = () => {},
}) {
  const polite = role === "customer";
  let config = {};
  let pc = null;
  let pcId = null;
  let remotePcId = null;
  let startingOver = false; // pc was made to offer afresh and has no answer yet
  let early = []; // [pc_id, candidate] for a description still to come
  let chain = Promise.resolve();
  let closed = false;
  let graceTimer = 0;
  let giveUpTimer = 0;
  let answerTimer = 0;
  let holding = false; // signals are kept, not sent (an offer made before the call is answered)
  let held = [];
  let expected = new Set(); // kinds whose local track is on its way
  const streamed = new WeakSet(); // senders given our stream
  let spare = null; // {pc, pool}: the next connection, made ahead by warm()
  const retiring = new Set(); // replaced connections still to close
  let gathering = null; // the current connection's latest gathering: {count, errors, complete}
  const local = { audio: null, video: null, stream: typeof MediaStream === "function" ? new MediaStream() : null };

  function run(job) {
    chain = chain
      .then(() => (closed ? undefined : job()))
      .catch((err) => log("a signaling step failed:", err));
    return chain;
  }

  function clearTimers() {
    clearTimeout(graceTimer);
    clearTimeout(giveUpTimer);
    clearTimeout(answerTimer);
    graceTimer = giveUpTimer = answerTimer = 0;
  }

  function out(signal) {
    if (holding) held.push(signal);
    else send(signal);
  }

  function sendDescription(target, id) {
    const d = target.localDescription;
    if (d && target === pc) out({ pc_id: id, description: { type: d.type, sdp: d.sdp } });
  }

  // foundation, component, transport, priority, address, port: the same candidate whatever
  // the attributes after them
  function candidateKey(line) {
    return line.replace(/^a=/, "").split(" ").slice(0, 6).join(" ");
  }

  // send what was held: the description as it is now (with the candidates gathered since it
  // was made), then the candidates it does not carry
  function releaseHeld() {
    const signals = held;
    held = [];
    const d = pc && pc.localDescription;
    const inSdp = new Set(
      d
        ? d.sdp
            .split(/\r?\n/)
            .filter((l) => l.startsWith("a=candidate:"))
            .map(candidateKey)
        : [],
    );
    for (const signal of signals) {
      if (signal.pc_id !== pcId) continue;
      if (signal.description) {
        const now = d && d.type === signal.description.type ? { type: d.type, sdp: d.sdp } : signal.description;
        send({ pc_id: signal.pc_id, description: now });
      } else if (!(signal.candidate && inSdp.has(candidateKey(signal.candidate.candidate || "")))) {
        send(signal);
      }
    }
  }

  function transceiverOf(target, kind) {
    return target
      .getTransceivers()
      .find((t) => !t.stopped && t.currentDirection !== "stopped" && t.receiver && t.receiver.track && t.receiver.track.kind === kind);
  }

  function sends(kind) {
    return !!local[kind] || expected.has(kind);
  }

  // the senders carry the current local tracks; directions say what we send (or will)
  async function syncSenders(target) {
    for (const kind of KINDS) {
      const track = local[kind];
      const t = transceiverOf(target, kind);
      if (!t) {
        if (sends(kind)) target.addTransceiver(track || kind, { direction: "sendrecv", streams: local.stream ? [local.stream] : [] });
        continue;
      }
      if (t.sender.track !== track) await t.sender.replaceTrack(track);
      // the sender's stream, once (before its track comes, if that is still on its way)
      if (sends(kind) && local.stream && t.sender.setStreams && !streamed.has(t.sender)) {
        t.sender.setStreams(local.stream);
        streamed.add(t.sender);
      }
      const direction = sends(kind) ? "sendrecv" : "recvonly";
      if (t.direction !== direction) t.direction = direction;
    }
  }

  function detach(target) {
    target.onnegotiationneeded = target.onicecandidate = target.onicecandidateerror = target.ontrack = null;
    target.oniceconnectionstatechange = target.onconnectionstatechange = target.onsignalingstatechange = null;
  }

  function closeQuietly(target) {
    retiring.delete(target);
    try {
      target.close();
    } catch (_) {
      /* already closed */
    }
  }

  function dispose(target) {
    if (!target) return;
    detach(target);
    closeQuietly(target);
  }

  // a replaced connection: silent at once, closed a little later (closing takes the main
  // thread a while, which the new connection's set-up needs now)
  function retire(target) {
    if (!target) return;
    detach(target);
    retiring.add(target);
    setTimeout(() => retiring.has(target) && closeQuietly(target), RETIRE_MS);
  }

  // replace the connection; an offering one gets its audio section, and its video section
  // at once if there is or may be video
  function fresh(offering) {
    retire(pc);
    clearTimers();
    const id = newPcId();
    const next = spare ? spare.pc : new RTCPeerConnection(config);
    spare = null;
    pc = next;
    pcId = id;
    remotePcId = null;
    startingOver = offering;
    next.onnegotiationneeded = () => run(() => negotiate(next, id));
    gathering = { count: 0, errors: [], complete: false };
    next.onicecandidate = (e) => {
      if (next !== pc) return;
      if (e.candidate && e.candidate.candidate) {
        gathering.count += 1;
        out({ pc_id: id, candidate: e.candidate.toJSON() });
      } else if (!e.candidate) gathered(id);
    };
    // (a TURN server's refusal, e.g. 401 for a wrong or expired credential; errors met while
    // gathering ahead with iceCandidatePoolSize are not reported by Chromium)
    next.onicecandidateerror = (e) => {
      if (next === pc) gathering.errors.push({ code: e.errorCode, text: e.errorText, url: e.url });
    };
    next.ontrack = (e) => {
      if (next !== pc) return;
      const track = e.track;
      track.addEventListener("mute", () => next === pc && onRemote());
      track.addEventListener("unmute", () => next === pc && onRemote());
      onTrack(track);
      onRemote();
    };
    next.oniceconnectionstatechange = () => next === pc && iceChanged(next);
    next.onconnectionstatechange = () => next === pc && connectionChanged(next);
    next.onsignalingstatechange = () => next === pc && next.signalingState === "stable" && onRemote();
    if (offering) {
      for (const kind of KINDS) {
        if (kind === "video" && !sends(kind) && !videoCall()) continue;
        next.addTransceiver(local[kind] || kind, {
          direction: sends(kind) ? "sendrecv" : "recvonly",
          streams: local.stream ? [local.stream] : [],
        });
      }
    }
    log(`new connection ${id} (${offering ? "offering" : "answering"})`);
    return next;
  }

  // the current connection's gathering is over: say so, and whether it found nothing
  function gathered(id) {
    gathering.complete = true;
    out({ pc_id: id, candidate: { candidate: "" } });
    if (gathering.count) return;
    log("gathering found no candidate:", JSON.stringify(gathering.errors));
    onNoPath();
  }

  async function negotiate(target, id) {
    if (target !== pc || target.signalingState !== "stable") return; // fires again once stable if still needed
    await target.setLocalDescription();
    sendDescription(target, id);
  }

  async function onOffer(description, from) {
    const known = !!pc && (from || null) === remotePcId && !(startingOver && remotePcId === null);
    if (known) {
      const collision = pc.signalingState !== "stable";
      if (collision && !polite) {
        log("offers collided: keeping ours (impolite side)");
        return;
      }
      const target = pc;
      const id = pcId;
      await target.setRemoteDescription(description); // rolls our own offer back if needed
      await syncSenders(target);
      await target.setLocalDescription();
      sendDescription(target, id);
      return;
    }
    if (pc && startingOver && pc.signalingState === "have-local-offer" && role === "customer") {
      log("both sides started over: ours stands");
      return;
    }
    const hadConnection = !!pc;
    const target = fresh(false);
    const id = pcId;
    remotePcId = from || null;
    // our tracks first: the offer's sections take them up as it is applied (as JSEP does
    // for addTrack's transceivers), so no replaceTrack has to follow
    for (const kind of KINDS) if (local[kind]) target.addTrack(local[kind], ...(local.stream ? [local.stream] : []));
    try {
      await target.setRemoteDescription(description);
      await syncSenders(target);
      await target.setLocalDescription();
      sendDescription(target, id);
    } finally {
      // the other side started over: said once our answer is on its way, so that updating
      // the UI does not delay it
      if (hadConnection && target === pc) onConnection("reconnecting");
    }
    await addEarly(target);
  }

  async function onAnswer(description, from) {
    if (!pc || pc.signalingState !== "have-local-offer") {
      log("ignoring an answer to no offer");
      return;
    }
    const target = pc;
    try {
      await target.setRemoteDescription(description);
    } catch (err) {
      log("the answer does not apply; starting over:", err);
      startOverNow();
      return;
    }
    remotePcId = from || null;
    startingOver = false;
    clearTimeout(answerTimer);
    answerTimer = 0;
    await addEarly(target);
  }

  async function onCandidate(candidate, from) {
    if (!candidate || !candidate.candidate) return; // end of candidates
    if (!pc || !pc.remoteDescription || (from || null) !== remotePcId) {
      early.push([from || null, candidate]);
      if (early.length > EARLY_LIMIT) early.shift();
      return;
    }
    try {
      await pc.addIceCandidate(candidate);
    } catch (err) {
      log("ignoring a candidate:", err);
    }
  }

  async function addEarly(target) {
    const keep = [];
    for (const [from, candidate] of early) {
      if (from !== remotePcId) keep.push([from, candidate]);
      else if (target === pc) await target.addIceCandidate(candidate).catch((err) => log("ignoring a candidate:", err));
    }
    early = keep;
  }

  function spareConfig(pool) {
    return pool ? { ...config, iceCandidatePoolSize: 1 } : config;
  }

  function up(target) {
    return target.connectionState === "connected" || ["connected", "completed"].includes(target.iceConnectionState);
  }

  function iceChanged(target) {
    const state = target.iceConnectionState;
    if (state === "failed") restart(target);
    else if (state === "disconnected") {
      clearTimeout(graceTimer);
      graceTimer = setTimeout(() => {
        if (target === pc && target.iceConnectionState === "disconnected") restart(target);
      }, DISCONNECT_GRACE_MS);
    } else if (state === "connected" || state === "completed") clearTimers();
  }

  function connectionChanged(target) {
    const state = target.connectionState;
    if (state === "connected") {
      clearTimers();
      onConnection("connected");
    } else if (state === "failed") {
      onConnection("reconnecting");
      restart(target);
    } else if (state === "disconnected") {
      onConnection("reconnecting");
    }
  }

  function restart(target) {
    if (target !== pc || closed || giveUpTimer) return;
    log("restarting ICE");
    if (target.remoteDescription) {
      gathering = { count: 0, errors: [], complete: false }; // a new generation gathers afresh
      target.restartIce();
    }
    giveUpTimer = setTimeout(() => {
      giveUpTimer = 0;
      if (target === pc && !up(target)) {
        log("the ICE restart did not reconnect: starting over");
        startOverNow();
      }
    }, RESTART_GIVE_UP_MS);
  }

  function startOverNow() {
    if (pc) onConnection("reconnecting"); // a first offer is not a reconnection
    const target = fresh(true); // negotiationneeded makes the offer
    if (!holding) awaitAnswer(target);
  }

  function awaitAnswer(target) {
    clearTimeout(answerTimer);
    answerTimer = setTimeout(() => {
      answerTimer = 0;
      if (target === pc && startingOver && target.signalingState === "have-local-offer") {
        log("nobody answered our fresh offer: starting over again");
        run(() => startOverNow());
      }
    }, UNANSWERED_MS + Math.random() * 2000);
  }

  return {
    get pc() {
      return pc;
    },
    get pcId() {
      return pcId;
    },
    get local() {
      return local;
    },
    // the current connection's latest gathering: {count (local candidates so far), errors
    // (its icecandidateerror events), complete}; null before there is a connection
    get gathering() {
      return gathering && { ...gathering, errors: gathering.errors.slice() };
    },
    setConfig(rtcConfig) {
      config = rtcConfig || {};
      if (spare) {
        try {
          spare.pc.setConfiguration(spareConfig(spare.pool));
        } catch (_) {
          dispose(spare.pc);
          spare = null;
        }
      }
    },
    // make the next connection now (and with pool, gather its candidates ahead)
    warm({ pool = false } = {}) {
      if (closed || spare || pc) return;
      try {
        spare = { pc: new RTCPeerConnection(spareConfig(pool)), pool };
      } catch (err) {
        log("could not make a connection ahead:", err);
      }
    },
    // a fresh connection that offers (the caller's first offer, a rejoin, a restart);
    // hold: make the offer and gather now, send it on release()
    startOver({ hold = false } = {}) {
      if (hold) holding = true;
      return run(() => startOverNow());
    },
    get holding() {
      return holding;
    },
    // send what startOver({hold: true}) kept, and from now on everything as it comes
    release() {
      if (!holding) return false;
      holding = false;
      releaseHeld();
      if (pc && startingOver) awaitAnswer(pc);
      return true;
    },
    // local tracks of these kinds are coming: negotiate their senders as sending already
    expect(kinds) {
      expected = new Set(kinds);
      return run(() => pc && syncSenders(pc));
    },
    // whether this side has a connection (or one is being made)
    get active() {
      return !!pc;
    },
    handle(signal) {
      return run(async () => {
        const { pc_id: from, description, candidate } = signal || {};
        if (description && description.type === "offer") await onOffer(description, from);
        else if (description && description.type === "answer") await onAnswer(description, from);
        else if (candidate) await onCandidate(candidate, from);
      });
    },
    // the local tracks to send (null: send nothing of that kind); ends expect()
    setTracks({ audio = local.audio, video = local.video } = {}) {
      local.audio = audio;
      local.video = video;
      expected = new Set();
      if (local.stream) {
        for (const t of local.stream.getTracks()) if (t !== audio && t !== video) local.stream.removeTrack(t);
        for (const t of [audio, video]) if (t && !local.stream.getTracks().includes(t)) local.stream.addTrack(t);
      }
      return run(() => pc && syncSenders(pc));
    },
    // what the remote side sends us on the current connection
    remote() {
      const out = { audio: null, video: null, videoLive: false };
      if (!pc) return out;
      for (const kind of KINDS) {
        const t = transceiverOf(pc, kind);
        if (!t) continue;
        out[kind] = t.receiver.track;
        if (kind === "video") {
          const receiving = t.currentDirection === "sendrecv" || t.currentDirection === "recvonly";
          out.videoLive = receiving && !t.receiver.track.muted;
        }
      }
      return out;
    },
    close() {
      closed = true;
      clearTimers();
      dispose(pc);
      pc = null;
      for (const target of [...retiring]) closeQuietly(target);
      if (spare) dispose(spare.pc);
      spare = null;
      early = [];
      held = [];
      holding = false;
    },
  };
}
