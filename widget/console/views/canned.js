// The canned-response picker on the reply box: typing "/" (then part of a shortcut) lists
// the responses for the session's queue; Up/Down move, Enter or Tab puts the response in
// the reply box with its placeholders filled, Escape closes. The textarea keeps focus
// (aria-activedescendant names the highlighted option), so typing goes on as usual.
import { h, nextId, setAttr, setText } from "../dom.js";
import { fillPlaceholders } from "../canned.js";

const QUERY = /^\/([\w-]*)$/;

export function createCannedPicker({ input, getItems, getValues }) {
  const listId = nextId("canned");
  const list = h("ul", { id: listId, part: "canned-list", class: "canned", role: "listbox", "aria-label": "Canned responses", hidden: true });
  const status = h("p", { class: "sr-only", role: "status" });
  const el = h("div", { class: "canned-wrap" }, list, status);
  let shown = [];
  let active = 0;

  setAttr(input, "aria-autocomplete", "list");
  setAttr(input, "aria-controls", listId);

  function close() {
    if (list.hidden) return;
    list.hidden = true;
    list.replaceChildren();
    shown = [];
    setAttr(input, "aria-activedescendant", null);
    setText(status, "");
  }

  function highlight(i) {
    active = (i + shown.length) % shown.length;
    [...list.children].forEach((li, k) => setAttr(li, "aria-selected", k === active ? "true" : "false"));
    setAttr(input, "aria-activedescendant", list.children[active].id);
    list.children[active].scrollIntoView({ block: "nearest" });
  }

  function update() {
    const m = QUERY.exec(input.value);
    if (!m) return close();
    const q = m[1].toLowerCase();
    shown = getItems().filter((c) => c.shortcut.startsWith(q));
    if (!shown.length) {
      close();
      setText(status, q ? `No canned response starts with /${q}.` : "");
      return;
    }
    list.replaceChildren(
      ...shown.map((c, i) =>
        h(
          "li",
          {
            id: `${listId}-${i}`,
            part: "canned-option",
            class: "canned__option",
            role: "option",
            "data-shortcut": c.shortcut,
            "aria-selected": "false",
            onmousedown: (e) => e.preventDefault(), // keep focus in the reply box
            onclick: () => pick(c),
          },
          h("span", { class: "canned__key", text: `/${c.shortcut}` }),
          h("span", { class: "canned__title", text: c.title }),
          h("span", { class: "canned__text", text: fillPlaceholders(c.text, getValues()) }),
        ),
      ),
    );
    list.hidden = false;
    setText(status, `${shown.length} canned response${shown.length === 1 ? "" : "s"}: Up and Down to choose, Enter to use.`);
    highlight(0);
  }

  function pick(item) {
    input.value = fillPlaceholders(item.text, getValues());
    close();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    input.dispatchEvent(new Event("input", { bubbles: true })); // drafts, typing, the counter
  }

  // before the reply box's own Enter-to-send (a capture listener on the target runs first)
  input.addEventListener(
    "keydown",
    (e) => {
      if (list.hidden || e.isComposing) return;
      const moves = { ArrowDown: 1, ArrowUp: -1 };
      if (e.key in moves) highlight(active + moves[e.key]);
      else if (e.key === "Enter" || e.key === "Tab") pick(shown[active]);
      else if (e.key === "Escape") close();
      else return;
      e.preventDefault();
      e.stopImmediatePropagation();
    },
    true,
  );
  input.addEventListener("input", update);
  input.addEventListener("blur", () => setTimeout(close, 150));

  return { el, close, update };
}
