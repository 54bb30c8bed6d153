// The socket.io connection: a fresh token from the host site's endpoint for every
// (re)connect, acks as promises, and reconnecting after refusals socket.io will not retry.
import { io } from "socket.io-client";
import { createEmitter } from "./emitter.js";
import { CUSTOMER_PUSHES } from "./protocol.js";

const ACK_TIMEOUT_MS = 10000;

export function fetchToken(tokenUrl) {
  return fetch(tokenUrl, { credentials: "include", headers: { Accept: "application/json" } })
    .then((res) => {
      if (!res.ok) throw new Error(`The token endpoint answered ${res.status}.`);
      return res.json();
    })
    .then((body) => {
      if (!body || typeof body.token !== "string" || !body.token) {
        throw new Error("The token endpoint returned no token.");
      }
      return body.token;
    });
}

// A refused connect carries {code, message} in err.data (docs/protocol.md).
function connectError(err) {
  const data = err && err.data;
  if (data && typeof data === "object" && data.code) {
    return { code: String(data.code), message: String(data.message || err.message || data.code) };
  }
  return { code: "connect_failed", message: (err && err.message) || "Could not connect." };
}

export function createTransport({ server, tokenUrl }) {
  const events = createEmitter();
  let socket = null;
  let retryTimer = 0;
  let retryDelay = 1000;

  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      if (socket && !socket.connected) socket.connect();
    }, retryDelay * (0.5 + Math.random())); // jittered: a restart's reconnects spread out
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  function connect() {
    if (socket) {
      if (!socket.connected && !socket.active) socket.connect();
      return;
    }
    socket = io(server, {
      autoConnect: false,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
      auth: (cb) =>
        fetchToken(tokenUrl).then(
          (token) => cb({ token }),
          (err) => {
            events.emit("error", { code: "token_unavailable", message: err.message || String(err) });
            cb({}); // the server refuses with token_missing and we try again later
          },
        ),
    });
    socket.on("connect", () => {
      retryDelay = 1000;
      events.emit("up");
    });
    socket.on("disconnect", (reason) => {
      events.emit("down", reason);
      // the server (or a refused token) ended it: socket.io does not come back by itself
      if (reason === "io server disconnect") retryLater();
    });
    socket.on("connect_error", (err) => {
      events.emit("down", "connect_error");
      if (!socket.active) {
        // refused by the server (bad/expired token, origin): ask for a new token later
        events.emit("error", connectError(err));
        retryLater();
      }
    });
    for (const name of CUSTOMER_PUSHES) socket.on(name, (data) => events.emit("push", name, data));
    socket.connect();
  }

  // Emit with an ack; always resolves with the ack shape, {ok:false, error} when offline or
  // when no ack came in time. Never emits while disconnected (socket.io would buffer it
  // and send it late, after our own resend).
  function request(name, payload, timeout = ACK_TIMEOUT_MS) {
    return new Promise((resolve) => {
      if (!socket || !socket.connected) {
        resolve({ ok: false, error: { code: "offline", message: "Not connected." } });
        return;
      }
      socket.timeout(timeout).emit(name, payload, (err, ack) => {
        if (err) resolve({ ok: false, error: { code: "timeout", message: "The server did not answer in time." } });
        else if (ack && typeof ack === "object") resolve(ack);
        else resolve({ ok: false, error: { code: "bad_ack", message: "Unexpected answer from the server." } });
      });
    });
  }

  function disconnect() {
    clearTimeout(retryTimer);
    if (socket) {
      socket.off();
      socket.disconnect();
      socket = null;
    }
  }

  // after a network change, do not wait for the backoff
  function nudge() {
    if (socket && !socket.connected) {
      clearTimeout(retryTimer);
      retryDelay = 1000;
      socket.connect();
    }
  }

  return {
    on: events.on,
    connect,
    request,
    disconnect,
    nudge,
    get connected() {
      return !!(socket && socket.connected);
    },
    get started() {
      return !!socket;
    },
  };
}
