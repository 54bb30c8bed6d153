// The whole UI: mounts the shadow root with the launcher and the panel, opens and closes
// (Escape closes and returns focus to the launcher), follows the model, counts unread.
import { mount } from "./mount.js";
import { createLauncher } from "./launcher.js";
import { createPanel } from "./panel.js";
import { applyTheme } from "./theme.js";

export function createView({ title, theme = {}, t, model, chat, calls, cobrowse, onToggle }) {
  const { shadow, root, unmount } = mount();
  // the language's direction (Arabic, Hebrew: right to left) and the site's branding
  root.setAttribute("dir", t.dir);
  root.setAttribute("lang", t.locale);
  applyTheme(root, theme);
  let open = false;
  let unread = 0;
  const launcher = createLauncher({ t, text: theme.launcherText, onClick: () => onToggle(!open, true) });
  const panel = createPanel({ t, title, logo: theme.logo, model, chat, calls, cobrowse, onClose: () => onToggle(false, true) });
  root.append(panel.el, launcher.el);
  const list = panel.list;

  shadow.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && open) {
      e.stopPropagation();
      onToggle(false, true);
    }
  });

  const offs = [
    model.on("message", (m, live) => {
      list.add(m);
      const role = m.sender && m.sender.role;
      if (live && !open && role !== "customer" && role !== "system") {
        unread += 1;
        launcher.setUnread(unread, open);
      }
      panel.render();
    }),
    model.on("pending", (p) => {
      list.addPending(p);
      panel.render();
    }),
    model.on("settle", (clientId) => list.removePending(clientId)),
    model.on("reset", () => {
      list.clear();
      for (const p of model.pending.values()) list.addPending(p);
      panel.render();
    }),
    model.on("notice", (text) => list.notice(text)),
    model.on("state", panel.render),
    model.on("connection", panel.render),
    model.on("typing", panel.render),
    model.on("pending-change", panel.render),
  ];
  for (const m of model.messages.values()) list.add(m);
  for (const p of model.pending.values()) list.addPending(p);
  panel.render();

  return {
    get open() {
      return open;
    },
    callSlot: panel.callSlot, // where the call code renders its UI
    cobrowseSlot: panel.cobrowseSlot, // where the co-browse code puts its prompts
    layer: root, // the shadow root's container: the co-browse banner and overlay go here
    focusInput: () => panel.focusInput(),
    render: () => panel.render(),
    // `user`: opened/closed by a person (move focus), not restored on load
    setOpen(value, user) {
      if (value === open) return;
      open = value;
      panel.el.hidden = !open;
      if (open) {
        unread = 0;
        list.scrollToEnd();
        if (user) panel.focusInput();
      } else if (user) {
        launcher.focus();
      }
      launcher.setUnread(unread, open);
    },
    destroy() {
      offs.forEach((off) => off());
      unmount();
    },
  };
}
