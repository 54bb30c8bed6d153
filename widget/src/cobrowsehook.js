// The first script's side of co-browse: it loads the co-browse code (dcs-cobrowse.js, next
// to this script, with rrweb inside) only when co-browse needs it: the agent asks, the
// customer shares, or session.start finds it asked for or under way. Until the chunk has
// loaded, what it must act on is queued. It also keeps the state the panel shows.
import { Event, CobrowseState, SessionState } from "./protocol.js";

const WANTED = new Set([CobrowseState.REQUESTED, CobrowseState.ACTIVE]);

export function createCobrowseHook({ url, policy, request, getSessionId, isLive, getSlot, getLayer, openPanel, focusPanel, onChange, notice, say, getT }) {
  let api = null;
  let loading = null;
  let queue = [];
  let state = "idle"; // idle | requested | active, for this session

  function setState(next) {
    next = WANTED.has(next) ? next : "idle";
    if (next === state) return;
    state = next;
    onChange(state);
  }

  function load() {
    if (!loading) {
      loading = import(/* webpackIgnore: true */ url)
        .then((mod) => {
          api = mod.mountCobrowse({
            request,
            getSessionId,
            slot: getSlot(),
            layer: getLayer(),
            policy,
            t: getT(),
            openPanel,
            focusPanel,
            notice,
            onState: setState,
          });
          const waiting = queue;
          queue = [];
          for (const [name, args, resolve] of waiting) resolve(api[name](...args));
        })
        .catch((err) => {
          loading = null;
          const waiting = queue;
          queue = [];
          for (const entry of waiting) entry[2](false);
          console.error("[DCS] the co-browse code could not be loaded:", err);
          notice(say("sharing_unavailable"));
        });
    }
    return loading;
  }

  // call the chunk now, or once it has loaded; resolves with what it returned
  function run(name, ...args) {
    if (api) return Promise.resolve(api[name](...args));
    return new Promise((resolve) => {
      queue.push([name, args, resolve]);
      load();
    });
  }

  return {
    get state() {
      return state;
    },
    // cobrowse.state, cobrowse.signal, cobrowse.data for the current session
    push(name, data) {
      if (api) {
        api.push(name, data); // the chunk reports the state it takes on
        return;
      }
      const next = name === Event.COBROWSE_STATE && data ? data.state : null;
      if (next) setState(next);
      if (loading || WANTED.has(next)) run("push", name, data);
    },
    // session.start's ack: the co-browse asked for or under way in the session, or null
    resume(cobrowse) {
      if (api) {
        api.resume(cobrowse || null);
        return;
      }
      setState(cobrowse ? cobrowse.state : "idle");
      if ((cobrowse && WANTED.has(cobrowse.state)) || loading) run("resume", cobrowse || null);
    },
    // the customer shares the page without being asked; resolves true when it started
    share() {
      if (!isLive()) {
        notice(say("share_when_live"));
        return Promise.resolve(false);
      }
      return run("share").then((ok) => !!ok);
    },
    stop() {
      return api ? Promise.resolve(api.stop()) : Promise.resolve(true);
    },
    // the session's state changed: co-browse only lives in a live session
    session(s) {
      if (s && s.state === SessionState.LIVE) return;
      if (api) api.sessionEnded();
      else setState("idle");
    },
    // the widget shuts down or the conversation is closed: tell the agent, stop here
    shutdown() {
      if (!api) return;
      api.stop();
      api.destroy();
    },
  };
}
