// One polite status region for short notices ("Another agent already took this session").
// It is in the page from the start (so screen readers announce changes) and clears itself.
import { h, setText } from "../dom.js";

const SHOW_MS = 8000;

export function createNotice() {
  const text = h("span", { class: "notice__text" });
  const el = h("div", { part: "notice", role: "status", class: "notice" }, text);
  let timer = 0;
  let frame = 0;

  function say(message) {
    clearTimeout(timer);
    cancelAnimationFrame(frame);
    setText(text, "");
    el.classList.remove("notice--on");
    // a fresh write on the next frame: the same sentence twice is announced twice
    frame = requestAnimationFrame(() => {
      setText(text, message);
      el.classList.add("notice--on");
      timer = setTimeout(clear, SHOW_MS);
    });
  }

  function clear() {
    clearTimeout(timer);
    setText(text, "");
    el.classList.remove("notice--on");
  }

  return {
    el,
    say,
    clear,
    destroy() {
      clearTimeout(timer);
      cancelAnimationFrame(frame);
    },
  };
}
