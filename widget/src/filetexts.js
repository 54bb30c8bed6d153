// The English texts of files and read receipts (files.js, receipts.js); the locale files
// (i18n/locales/) translate the same keys.
export default {
  attach: "Attach a file",
  attach_failed: "{name} was not sent: {why}",
  attach_image: "Image: {name}",
  attach_open: "Open {name} ({size})",
  attach_unavailable: "{name} cannot be shown right now.",
  seen: "Seen",
};
