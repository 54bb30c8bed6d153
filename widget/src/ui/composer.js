// The composer: a labelled textarea (Enter sends, Shift+Enter is a newline) and Send.
// Never disabled for a lost connection: what is sent then waits as pending.
import { MAX_TEXT_CHARS } from "../protocol.js";
import { h, icon, ICON_SEND } from "./dom.js";

export function createComposer({ t, onSend, onType }) {
  const input = h("textarea", {
    part: "input",
    id: "dcs-input",
    rows: "1",
    maxlength: String(MAX_TEXT_CHARS),
    placeholder: t("composer_placeholder"),
    autocomplete: "off",
  });
  const label = h("label", { class: "sr", for: "dcs-input" }, t("composer_label"));
  const send = h("button", { part: "send", class: "send", type: "submit", "aria-label": t("send"), title: t("send") }, icon(ICON_SEND));
  const el = h("form", { class: "composer", novalidate: true }, label, input, send);

  const grow = () => {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight + 3, 120)}px`;
  };
  const submit = () => {
    if (!input.value.trim()) return;
    if (onSend(input.value) !== false) {
      input.value = "";
      grow();
    }
  };

  el.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
    input.focus();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    grow();
    if (input.value) onType();
  });

  return {
    el,
    input,
    focus() {
      input.focus();
    },
  };
}
