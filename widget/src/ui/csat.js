// The rating form shown once the chat has ended: a 1–5 radiogroup (arrow keys move,
// Space/Enter pick), an optional labelled comment, Submit; then a thank-you.
import { h } from "./dom.js";

export function createCsat({ t, onSubmit }) {
  const LABELS = [1, 2, 3, 4, 5].map((n) => t(`csat_${n}`));
  let score = 0;
  const question = h("div", { class: "q", id: "dcs-csat-q" }, t("csat_question"));
  const buttons = LABELS.map((label, i) =>
    h(
      "button",
      {
        type: "button",
        part: "csat-score",
        class: "score",
        role: "radio",
        "data-score": String(i + 1),
        "aria-checked": "false",
        "aria-label": t("csat_score", { n: i + 1, label }),
        tabindex: i === 0 ? "0" : "-1",
        onclick: () => pick(i + 1, false),
      },
      String(i + 1),
    ),
  );
  const group = h("div", { class: "scores", role: "radiogroup", "aria-labelledby": "dcs-csat-q" }, buttons);
  const scale = h("div", { class: "scale", "aria-hidden": "true" }, h("span", {}, LABELS[0]), h("span", {}, LABELS[4]));
  const comment = h("textarea", { part: "csat-comment", id: "dcs-csat-comment", rows: "2", maxlength: "2000" });
  const commentLabel = h("label", { for: "dcs-csat-comment" }, t("csat_comment"));
  const submit = h("button", { part: "csat-submit", class: "primary", type: "submit", disabled: true }, t("csat_submit"));
  const form = h("form", { part: "csat", class: "csat", "aria-label": t("csat_form"), novalidate: true },
    question, group, scale, commentLabel, comment, submit);
  const thanks = h("p", { part: "csat-thanks", class: "thanks", role: "status", hidden: true }, t("csat_thanks"));

  function pick(value, focus) {
    score = value;
    buttons.forEach((b, i) => {
      const on = i + 1 === value;
      b.setAttribute("aria-checked", String(on));
      b.tabIndex = on ? 0 : -1;
      if (on && focus) b.focus();
    });
    submit.disabled = false;
  }

  group.addEventListener("keydown", (e) => {
    const current = score || 1;
    const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (e.key in moves) {
      e.preventDefault();
      pick(((current - 1 + moves[e.key] + 5) % 5) + 1, true);
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      pick(e.key === "Home" ? 1 : 5, true);
    }
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!score || submit.disabled) return;
    submit.disabled = true;
    submit.textContent = t("sending");
    onSubmit(score, comment.value.trim()).then((ok) => {
      submit.textContent = t("csat_submit");
      submit.disabled = false;
      if (ok) done();
    });
  });

  function done() {
    form.hidden = true;
    thanks.hidden = false;
  }

  return {
    form,
    thanks,
    // shown: "form" | "thanks" | null
    show(what) {
      if (what === "thanks") done();
      else {
        thanks.hidden = true;
        form.hidden = what !== "form";
      }
    },
    reset() {
      score = 0;
      comment.value = "";
      buttons.forEach((b, i) => {
        b.setAttribute("aria-checked", "false");
        b.tabIndex = i === 0 ? 0 : -1;
      });
      submit.disabled = true;
    },
  };
}
