// The co-browse UI's English texts (built into the co-browse chunk, not the first
// script); the locale files (i18n/locales/) translate the same keys.
export default {
  cb_view_title: "{name} would like to see this page",
  cb_view_desc: "They will see this page as you see it, not your other tabs or apps. Passwords, card numbers and other protected fields stay hidden. You can stop at any time.",
  cb_control_title: "{name} would like to control this page (click, scroll and type for you)",
  cb_control_desc: "You can take back control at any time.",
  cb_allow: "Allow",
  cb_decline: "Decline",
  cb_banner: "Page sharing",
  cb_sees: "{name} can see this page",
  cb_controls: "{name} can see and control this page",
  cb_stop: "Stop sharing",
  cb_revoke: "Take back control",
  cb_move: "Move this bar to another corner",
  cb_stopped: "You stopped sharing this page.",
  cb_no_longer_sees: "{name} can no longer see this page.",
  cb_no_longer_controls: "{name} can no longer control this page.",
  the_agent: "The agent",
};
