// The launcher button in the page's bottom corner (right, or left by the site's choice),
// round or, with a launcher text, a pill; shows unread replies while closed.
import { h, icon, ICON_CHAT, ICON_CLOSE } from "./dom.js";

export function createLauncher({ t, text = "", onClick }) {
  const chat = icon(ICON_CHAT);
  chat.setAttribute("class", "i-chat");
  const close = icon(ICON_CLOSE);
  close.setAttribute("class", "i-close");
  const badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
  const label = text ? h("span", { part: "launcher-text", class: "launcher-text", "aria-hidden": "true" }, text) : null;
  const el = h(
    "button",
    { part: "launcher", class: text ? "launcher launcher--text" : "launcher", type: "button", "aria-controls": "dcs-panel", onclick: onClick },
    chat,
    close,
    label,
    badge,
  );
  let unread = 0;

  function render(open) {
    el.setAttribute("aria-expanded", String(open));
    const name = open ? t("close_chat") : unread ? t("open_chat_unread", { count: unread }) : text || t("open_chat");
    el.setAttribute("aria-label", name);
    el.title = open ? t("close_chat") : text || t("open_chat");
    badge.textContent = unread > 9 ? "9+" : String(unread);
    badge.hidden = open || !unread;
    if (label) label.hidden = open;
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
