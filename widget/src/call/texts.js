// The call UI's English texts (built into the call chunk, not the first script); the
// locale files (i18n/locales/) translate the same keys.
const CALL_TEXTS = {
  call_start_group: "Start a call",
  call_incoming: "Incoming call",
  call_incoming_video: "Incoming video call",
  call_is_calling: "{name} is calling you.",
  call_ringing_in: "{name} is calling…",
  call_calling: "Calling…",
  call_connecting: "Connecting…",
  call_on: "On a call",
  call_on_video: "On a video call",
  call_reconnecting: "Reconnecting…",
  call_ended: "Call ended",
  call_ended_declined: "Call declined",
  call_ended_session: "Call ended with the conversation",
  call_ended_agent_left: "Call ended: the agent had to leave",
  call_failed: "Call failed",
  call_accept: "Accept",
  call_decline: "Decline",
  call_mute: "Mute",
  call_unmute: "Unmute",
  call_camera_on: "Turn camera on",
  call_camera_off: "Turn camera off",
  call_hangup: "Hang up",
  call_cancel: "Cancel",
  call_duration: "Call duration",
  call_other_muted: "{name} is muted",
  call_your_camera: "Your camera",
  call_other_video: "{name}'s video",
  call_sound: "Turn on sound",
  call_bar: "Call",
  call_mini: "Call in progress",
  call_open_chat: "Open chat",
  the_agent: "The agent",
  call_an_agent: "An agent",
  call_the_customer: "The customer",
  call_no_relay: "Could not reach the media relay server, so the call cannot connect. The chat still works.",
  call_no_connection: "The call could not connect. Check your network connection and try again. The chat still works.",
  call_not_set_up: "The call could not be set up.",
  call_not_started: "The call could not be started.",
  call_not_answered: "The call could not be answered.",
  call_not_declined: "The call could not be declined.",
  device_microphone: "microphone",
  device_camera: "camera",
  media_blocked: "Your {device} is blocked for this site. Allow it in the browser's site settings (the icon next to the address), then try again.",
  media_missing: "No {device} was found. Connect one and try again.",
  media_busy: "Your {device} could not be started: another app may be using it.",
  media_insecure: "Calls need a secure (https) page.",
  media_failed: "Your {device} could not be started.",
};
export default CALL_TEXTS;

// the English text, with {placeholders} filled (the console, and the fallback)
export function english(key, vars) {
  const text = CALL_TEXTS[key] != null ? CALL_TEXTS[key] : key;
  return vars ? text.replace(/\{(\w+)\}/g, (all, name) => (vars[name] != null ? String(vars[name]) : all)) : text;
}
