// Co-browse on the customer's side, for one session. The server's Cobrowse (cobrowse.state
// pushes, consent/stop acks, session.start's ack) is the truth; this follows it:
//
//   requested by the agent → the consent prompt (the panel opens);
//   active → recording + transport + banner (a reloaded or navigated page resumes it here
//            with a fresh snapshot and no prompt); control "requested" → the second prompt;
//            control "granted" → the agent's click/scroll/input frames are applied;
//   ended (or the session left live) → everything stops at once.
//
// The customer's own Stop stops recording before the server has answered.
import { Event, CobrowseState } from "../protocol.js";
import { createCobrowseChannel } from "./channel.js";
import { startSharing } from "./share.js";
import { createGuide } from "./guide.js";
import { createControl } from "./control.js";
import { createCobrowseUi } from "./ui.js";

const STALE_MS = 1500; // ids in agent frames this soon after a fresh snapshot may be the last page's

export function createCobrowseController({ sessionId, request, policy, slot, layer, openPanel, focusPanel, notice, onState, log, t = null }) {
  let cb = null; // the latest Cobrowse of this session
  let busy = false;
  let live = null; // {cobrowseId, channel, sharing, guide, control} while active
  let destroyed = false;
  const stopped = new Set(); // co-browses the customer stopped here: never restarted by late news

  const ui = createCobrowseUi({
    t,
    slot,
    layer,
    onAnswer: (scope, accept) => answer(scope, accept),
    onStop: () => stop(),
    onRevoke: () => answer("control", false),
  });

  function agentName() {
    return (cb && cb.agent && cb.agent.name) || ui.text("the_agent");
  }

  function state() {
    return cb && cb.state !== CobrowseState.ENDED ? cb.state : "idle";
  }

  function render() {
    if (destroyed) return;
    ui.render({
      state: state(),
      agentName: agentName(),
      askedByAgent: !!cb && cb.requested_by === "agent",
      control: (cb && cb.control) || "off",
      busy,
    });
    onState(state());
  }

  // agent → customer frames
  function onFrame(frame) {
    if (!live || !frame || typeof frame.t !== "string") return;
    const { guide, control, sharing, channel } = live;
    switch (frame.t) {
      case "pointer":
        guide.pointer(frame);
        break;
      case "highlight":
        if (fresh(frame)) guide.highlight(frame);
        break;
      case "click":
      case "input":
      case "scroll": {
        const nack = control.apply(frame);
        if (nack) {
          log("refused", frame.t, nack.why);
          channel.send(nack);
        }
        break;
      }
      case "sync": // the viewer has no snapshot of the current recording (it reloaded)
        sharing.restart();
        break;
      case "shown": // the console shows the page: now set up the data channel (channel.js)
        channel.startPeer();
        break;
      default:
        break;
    }
  }

  // whether a frame's node ids can be from the current recording (an optional `g` says
  // which recording the agent saw; without it, ids just after a page load are doubted)
  function fresh(frame) {
    if (!live) return false;
    const { sharing } = live;
    if (frame.g != null) return frame.g === sharing.epoch;
    return !sharing.firstOnPage || performance.now() - sharing.startedAt > STALE_MS;
  }

  function startLive(id) {
    if (live && live.cobrowseId === id) return;
    stopLive();
    const guide = createGuide({ layer });
    guide.setAgent(agentName());
    let sharing = null;
    const channel = createCobrowseChannel({
      role: "sharer",
      sessionId,
      cobrowseId: id,
      request,
      onFrame,
      onTransport: () => render(),
      onLoss: () => sharing && sharing.restart(),
      onViewer: () => sharing && sharing.restart(),
      log,
    });
    sharing = startSharing({ policy, send: (frame) => channel.send(frame), log });
    const control = createControl({
      policy,
      granted: () => !!cb && cb.state === CobrowseState.ACTIVE && cb.control === "granted",
      fresh,
    });
    live = { cobrowseId: id, channel, sharing, guide, control };
  }

  function stopLive() {
    if (!live) return;
    live.sharing.stop();
    live.channel.close();
    live.guide.destroy();
    live = null;
  }

  function apply(next) {
    if (destroyed || !next || next.session_id !== sessionId) return;
    if (stopped.has(next.cobrowse_id) && next.state !== CobrowseState.ENDED) return;
    // an older co-browse's news (its end after a new one began) changes nothing
    if (cb && next.cobrowse_id !== cb.cobrowse_id && next.state === CobrowseState.ENDED && cb.state !== CobrowseState.ENDED) return;
    const before = cb;
    const was = state();
    const name = agentName();
    cb = next;
    const now = state();
    if (now === CobrowseState.ACTIVE) startLive(cb.cobrowse_id);
    else stopLive();
    if (live) live.guide.setAgent(agentName());
    const hadFocus = ui.hasFocus();
    render();
    const isNew = !before || before.cobrowse_id !== cb.cobrowse_id;
    if (now === CobrowseState.REQUESTED && cb.requested_by === "agent" && (isNew || was !== now)) {
      openPanel();
      ui.focusPrompt();
    } else if (now === CobrowseState.ACTIVE && cb.control === "requested" && (isNew || before.control !== "requested")) {
      openPanel();
      ui.focusControlPrompt();
    } else if (hadFocus && !ui.hasFocus()) {
      focusPanel(); // the prompt answered went away: keep focus in the panel
    }
    if (was === CobrowseState.ACTIVE && now !== CobrowseState.ACTIVE) ui.announce(ui.text("cb_no_longer_sees", { name }));
    else if (before && before.control === "granted" && cb.control !== "granted" && now === CobrowseState.ACTIVE) {
      ui.announce(ui.text("cb_no_longer_controls", { name }));
    }
  }

  async function send(name, payload, fallback) {
    busy = true;
    render();
    const ack = await request(name, { session_id: sessionId, ...payload });
    busy = false;
    if (destroyed) return false;
    if (ack.ok && ack.cobrowse) apply(ack.cobrowse);
    else render();
    if (!ack.ok) {
      log(name, "failed:", ack.error);
      notice((ack.error && ack.error.message) || fallback);
    }
    return !!ack.ok;
  }

  function answer(scope, accept) {
    if (scope === "view" && accept) stopped.clear(); // sharing again, on purpose
    return send(Event.COBROWSE_CONSENT, { scope, accept: !!accept }, "Your answer did not reach the agent.");
  }

  // the customer (or the site) stops it: recording stops now, the server hears right after
  function stop() {
    if (!cb || state() === "idle") return Promise.resolve(true);
    if (cb.state === CobrowseState.REQUESTED) return answer("view", false);
    const id = cb.cobrowse_id;
    stopped.add(id);
    stopLive();
    cb = { ...cb, state: CobrowseState.ENDED, control: "off", reason: "stopped" };
    render();
    ui.announce(ui.text("cb_stopped"));
    return send(Event.COBROWSE_STOP, { cobrowse_id: id }, "Sharing stopped here, but the server did not hear it.");
  }

  return {
    push(name, data) {
      if (name === Event.COBROWSE_STATE) apply(data);
      else if (!live || !data || data.cobrowse_id !== live.cobrowseId) return;
      else if (name === Event.COBROWSE_SIGNAL) live.channel.handleSignal(data);
      else if (name === Event.COBROWSE_DATA) live.channel.handleData(data);
    },
    // session.start's ack: the co-browse requested or active in the session, or null
    resume(next) {
      if (next && stopped.has(next.cobrowse_id) && next.state === CobrowseState.ACTIVE) {
        // our stop did not get through before the connection dropped: again
        request(Event.COBROWSE_STOP, { session_id: sessionId, cobrowse_id: next.cobrowse_id });
      } else if (next) apply(next);
      else if (cb && state() !== "idle") apply({ ...cb, state: CobrowseState.ENDED, control: "off" });
    },
    share() {
      if (state() === CobrowseState.ACTIVE) return Promise.resolve(true);
      return answer("view", true);
    },
    stop,
    // the session left "live": co-browse is over, whatever we heard
    sessionEnded() {
      if (cb && state() !== "idle") apply({ ...cb, state: CobrowseState.ENDED, control: "off", reason: "session ended" });
    },
    get state() {
      return state();
    },
    get cobrowse() {
      return cb;
    },
    get transport() {
      return live ? live.channel.transport : null;
    },
    get epoch() {
      return live ? live.sharing.epoch : null;
    },
    stats() {
      return live ? live.channel.stats() : null;
    },
    get pc() {
      return live ? live.channel.pc : null;
    },
    destroy() {
      destroyed = true;
      stopLive();
      ui.destroy();
    },
  };
}
