// The round launcher button at the bottom right; shows unread replies while closed.
import { h, icon, ICON_CHAT, ICON_CLOSE } from "./dom.js";

export function createLauncher({ onClick }) {
  const chat = icon(ICON_CHAT);
  chat.setAttribute("class", "i-chat");
  const close = icon(ICON_CLOSE);
  close.setAttribute("class", "i-close");
  const badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
  const el = h(
    "button",
    { part: "launcher", class: "launcher", type: "button", "aria-controls": "dcs-panel", onclick: onClick },
    chat,
    close,
    badge,
  );
  let unread = 0;

  function render(open) {
    el.setAttribute("aria-expanded", String(open));
    const label = open ? "Close chat" : unread ? `Open chat, ${unread} unread` : "Open chat";
    el.setAttribute("aria-label", label);
    el.title = open ? "Close chat" : "Open chat";
    badge.textContent = unread > 9 ? "9+" : String(unread);
    badge.hidden = open || !unread;
  }
  render(false);

  return {
    el,
    render,
    setUnread(count, open) {
      unread = count;
      render(open);
    },
    focus() {
      el.focus();
    },
  };
}
