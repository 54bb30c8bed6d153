// A modal confirmation (<dialog>, so focus is trapped and Escape cancels): "End this
// session?" before an action that cannot be undone. ask() resolves true only on Confirm;
// focus goes back to what had it.
import { h, nextId, setText } from "../dom.js";

export function createConfirm() {
  const titleId = nextId("confirm-title");
  const textId = nextId("confirm-text");
  const title = h("h2", { id: titleId, class: "signout__title" });
  const text = h("p", { id: textId, class: "signout__text" });
  const cancel = h("button", { type: "button", part: "confirm-cancel", class: "btn" }, "Cancel");
  const ok = h("button", { type: "button", part: "confirm-ok", class: "btn btn--danger" }, "Confirm");
  const el = h(
    "dialog",
    { part: "confirm-dialog", class: "signout", "aria-labelledby": titleId, "aria-describedby": textId },
    title,
    text,
    h("div", { class: "signout__actions" }, cancel, ok),
  );
  let settle = null;

  function finish(value) {
    if (!settle) return;
    const done = settle;
    settle = null;
    if (el.open) el.close();
    done(value);
  }

  cancel.addEventListener("click", () => finish(false));
  ok.addEventListener("click", () => finish(true));
  // Escape. close() dispatches its event later, in a task of its own: a dialog asked for
  // again meanwhile is open by then, and that stale event is not its answer.
  el.addEventListener("close", () => {
    if (!el.open) finish(false);
  });

  return {
    el,
    // {title, text, confirm}: resolves true when confirmed
    ask({ title: heading, text: body, confirm }) {
      finish(false);
      const back = document.activeElement;
      setText(title, heading);
      setText(text, body);
      setText(ok, confirm);
      if (!el.isConnected) document.body.append(el);
      el.showModal();
      cancel.focus(); // the safe choice has focus: Enter does not end a chat by accident
      return new Promise((resolve) => {
        settle = (value) => {
          if (back && back.isConnected && typeof back.focus === "function") back.focus();
          resolve(value);
        };
      });
    },
    destroy() {
      finish(false);
      el.remove();
    },
  };
}
