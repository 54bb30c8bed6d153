// Event names of the DCS wire protocol. Mirrors dcs_sdk/protocol.py (Event); a test keeps them equal.
export const Event = Object.freeze({
  SESSION_START: "session.start",
  CHAT_SEND: "chat.send",
  CHAT_TYPING: "chat.typing",
  SESSION_ESCALATE: "session.escalate",
  PAGE_VIEW: "page.view",
  CSAT_SUBMIT: "csat.submit",
  HISTORY_FETCH: "history.fetch",
  AGENT_PRESENCE: "agent.presence",
  SESSION_ACCEPT: "session.accept",
  SESSION_END: "session.end",
  SESSION_WRAP_UP: "session.wrap_up",
  SESSION_TRANSFER: "session.transfer",
  SESSION_CLOSE: "session.close",
  SESSION_STATE: "session.state",
  CHAT_MESSAGE: "chat.message",
  QUEUE_SNAPSHOT: "queue.snapshot",
  AGENT_STATE: "agent.state",
  SESSION_HANDOFF: "session.handoff",
  SESSION_REVOKED: "session.revoked",
  ERROR: "error",
});

export const SessionState = Object.freeze({
  VIRTUAL: "virtual",
  QUEUED: "queued",
  LIVE: "live",
  WRAP_UP: "wrap_up",
  ENDED: "ended",
});

export const MAX_TEXT_CHARS = 4000;
