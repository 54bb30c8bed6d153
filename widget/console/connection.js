// The socket.io connection to the same origin: a fresh token for every (re)connect,
// acks as promises, and the connection state for the header.
//
// Events: "state" (connecting | connected | reconnecting | offline), "connected"
// ({reconnect}), "refused" ({code, message}: the server turned the token down), and
// "push" (name, data) for every server-pushed event.
import { io } from "socket.io-client";
import { createEmitter } from "./emitter.js";
import { AGENT_PUSHES } from "../src/protocol.js";

const ACK_TIMEOUT_MS = 10000;

export function createConnection({ getToken, firstToken = null }) {
  const events = createEmitter();
  let socket = null;
  let primed = firstToken; // the token fetched at sign-in, used for the first connect only
  let tokenProblem = null; // why the last token fetch failed (then the refusal is ours)
  let everConnected = false;
  let retryTimer = 0;
  let retryDelay = 1000;
  let state = "offline";

  function setState(next) {
    if (state === next) return;
    state = next;
    events.emit("state", next);
  }

  function retryLater() {
    clearTimeout(retryTimer);
    setState("reconnecting");
    retryTimer = setTimeout(() => {
      if (socket && !socket.connected) socket.connect();
    }, retryDelay * (0.5 + Math.random())); // jittered: a restart's reconnects spread out
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  function auth(cb) {
    const token = primed;
    primed = null;
    const pending = token ? Promise.resolve(token) : getToken();
    pending.then(
      (fresh) => {
        tokenProblem = null;
        cb({ token: fresh });
      },
      (err) => {
        tokenProblem = (err && err.message) || "Could not get a token.";
        cb({}); // refused as token_missing; we try again with backoff
      },
    );
  }

  function start() {
    if (socket) return;
    setState("connecting");
    socket = io({
      autoConnect: false,
      auth,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    socket.on("connect", () => {
      clearTimeout(retryTimer);
      retryDelay = 1000;
      const reconnect = everConnected;
      everConnected = true;
      setState("connected");
      events.emit("connected", { reconnect });
    });
    socket.on("disconnect", (reason) => {
      if (reason === "io client disconnect") return;
      setState("reconnecting");
      // the server ended it: socket.io does not come back by itself
      if (reason === "io server disconnect") retryLater();
    });
    socket.on("connect_error", (err) => {
      if (socket && socket.active) {
        setState(everConnected ? "reconnecting" : "connecting");
        return; // a network problem: socket.io retries by itself
      }
      const data = err && err.data;
      if (tokenProblem || !data || typeof data !== "object") {
        retryLater(); // our token fetch failed, or no usable answer: try again later
        return;
      }
      events.emit("refused", {
        code: String(data.code || "refused"),
        message: String(data.message || err.message || "The server refused the connection."),
      });
    });
    for (const name of AGENT_PUSHES) socket.on(name, (data) => events.emit("push", name, data));
    window.addEventListener("online", nudge);
    socket.connect();
  }

  // after the network comes back, do not wait for the backoff
  function nudge() {
    if (socket && !socket.connected) {
      clearTimeout(retryTimer);
      retryDelay = 1000;
      socket.connect();
    }
  }

  // emit with an ack; always resolves with the ack shape ({ok: false, error} when offline
  // or when no ack came in time); never queues an event while disconnected
  function request(name, payload, timeout = ACK_TIMEOUT_MS) {
    return new Promise((resolve) => {
      if (!socket || !socket.connected) {
        resolve({ ok: false, error: { code: "offline", message: "Not connected to the server." } });
        return;
      }
      socket.timeout(timeout).emit(name, payload, (err, ack) => {
        if (err) resolve({ ok: false, error: { code: "timeout", message: "The server did not answer in time." } });
        else if (ack && typeof ack === "object") resolve(ack);
        else resolve({ ok: false, error: { code: "bad_ack", message: "Unexpected answer from the server." } });
      });
    });
  }

  function stop() {
    clearTimeout(retryTimer);
    window.removeEventListener("online", nudge);
    if (socket) {
      socket.off();
      socket.disconnect();
      socket = null;
    }
    setState("offline");
    events.clear();
  }

  return {
    on: events.on,
    start,
    stop,
    request,
    get connected() {
      return Boolean(socket && socket.connected);
    },
    get state() {
      return state;
    },
    get tokenProblem() {
      return tokenProblem;
    },
  };
}
