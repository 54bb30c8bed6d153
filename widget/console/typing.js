// Tells the customer the agent is typing, sparingly: `true` at most every 2 s while keys
// are pressed, `false` after 3 s without a key, on send, and when the agent switches away.
const REPEAT_MS = 2000;
const IDLE_MS = 3000;

export function createTypingSender(sendTyping) {
  let sessionId = null; // the session we last told "typing: true"
  let lastTrue = 0;
  let idleTimer = 0;

  function stop() {
    clearTimeout(idleTimer);
    if (sessionId) {
      const id = sessionId;
      sessionId = null;
      lastTrue = 0;
      sendTyping(id, false);
    }
  }

  // call on every input event in the composer of session `id`, with the current text
  function input(id, text) {
    if (sessionId && sessionId !== id) stop();
    if (!text.trim()) {
      stop();
      return;
    }
    const now = Date.now();
    if (sessionId !== id || now - lastTrue >= REPEAT_MS) {
      sessionId = id;
      lastTrue = now;
      sendTyping(id, true);
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stop, IDLE_MS);
  }

  return { input, stop };
}
