// Event names of the DCS wire protocol. Mirrors dcs_sdk/protocol.py (Event); a test keeps them equal.
export const Event = Object.freeze({
  SESSION_START: "session.start",
  CHAT_SEND: "chat.send",
  CHAT_TYPING: "chat.typing",
  SESSION_ESCALATE: "session.escalate",
  SESSION_LEAVE_MESSAGE: "session.leave_message",
  PAGE_VIEW: "page.view",
  CSAT_SUBMIT: "csat.submit",
  HISTORY_FETCH: "history.fetch",
  AGENT_PRESENCE: "agent.presence",
  AGENT_SIGNOUT: "agent.signout",
  SESSION_ACCEPT: "session.accept",
  SESSION_END: "session.end",
  SESSION_WRAP_UP: "session.wrap_up",
  SESSION_TRANSFER: "session.transfer",
  SESSION_CLOSE: "session.close",
  RTC_CONFIG: "rtc.config",
  CALL_INVITE: "call.invite",
  CALL_ANSWER: "call.answer",
  CALL_MEDIA: "call.media",
  CALL_HANGUP: "call.hangup",
  RTC_SIGNAL: "rtc.signal",
  COBROWSE_REQUEST: "cobrowse.request",
  COBROWSE_CONSENT: "cobrowse.consent",
  COBROWSE_STOP: "cobrowse.stop",
  COBROWSE_SIGNAL: "cobrowse.signal",
  COBROWSE_DATA: "cobrowse.data",
  SESSION_STATE: "session.state",
  CHAT_MESSAGE: "chat.message",
  QUEUE_SNAPSHOT: "queue.snapshot",
  AGENT_STATE: "agent.state",
  SESSION_HANDOFF: "session.handoff",
  SESSION_REVOKED: "session.revoked",
  CALL_STATE: "call.state",
  COBROWSE_STATE: "cobrowse.state",
  ERROR: "error",
});

// What the server pushes to a customer's widget, and to an agent's console (agents also get
// every push of the sessions they hold).
export const CUSTOMER_PUSHES = Object.freeze([
  Event.SESSION_STATE,
  Event.CHAT_MESSAGE,
  Event.CHAT_TYPING,
  Event.ERROR,
  Event.CALL_STATE,
  Event.RTC_SIGNAL,
  Event.COBROWSE_STATE,
  Event.COBROWSE_SIGNAL,
  Event.COBROWSE_DATA,
]);
export const AGENT_PUSHES = Object.freeze([
  Event.AGENT_STATE,
  Event.QUEUE_SNAPSHOT,
  Event.SESSION_HANDOFF,
  Event.SESSION_REVOKED,
  ...CUSTOMER_PUSHES,
]);

export const SessionState = Object.freeze({
  VIRTUAL: "virtual",
  QUEUED: "queued",
  LIVE: "live",
  WRAP_UP: "wrap_up",
  ENDED: "ended",
});

export const CallState = Object.freeze({
  RINGING: "ringing",
  CONNECTING: "connecting",
  CONNECTED: "connected",
  RECONNECTING: "reconnecting",
  ENDED: "ended",
});

export const CobrowseState = Object.freeze({
  REQUESTED: "requested",
  ACTIVE: "active",
  ENDED: "ended",
});

export const MAX_TEXT_CHARS = 4000;
