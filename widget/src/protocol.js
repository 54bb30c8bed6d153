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
