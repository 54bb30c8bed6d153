// The sign-in screen: demo agents to pick from (demo mode), or a labelled field to paste
// an agent token. Errors (a refused or expired token) show here.
import { h, nextId, setText } from "../dom.js";

function skillsText(skills) {
  if (!skills.length) return "";
  if (skills.includes("*")) return "All queues";
  return `Queues: ${skills.join(", ")}`;
}

export function createSignIn({ config, onDemo, onToken }) {
  const titleId = nextId("signin-title");
  const tokenId = nextId("token");
  const error = h("p", { part: "signin-error", class: "signin__error", role: "alert" });
  const status = h("p", { class: "signin__status", role: "status" });
  const controls = [];

  let picker = null;
  if (config.demo) {
    picker = h(
      "ul",
      { part: "agent-picker", class: "picker", "aria-label": "Demo agents" },
      config.demoAgents.map((agent) => {
        const button = h(
          "button",
          {
            type: "button",
            part: "agent-option",
            class: "picker__option",
            "data-agent-id": agent.id,
            onclick: () => onDemo(agent.id),
          },
          h("span", { class: "picker__name", text: `Sign in as ${agent.name}` }),
          agent.role === "supervisor"
            ? h("span", { class: "picker__skills", text: `Supervisor · ${agent.skills.includes("*") ? "oversees all queues" : `oversees ${agent.skills.join(", ")}`}` })
            : agent.skills.length
              ? h("span", { class: "picker__skills", text: skillsText(agent.skills) })
              : null,
        );
        controls.push(button);
        return h("li", {}, button);
      }),
    );
  }

  const tokenInput = h("textarea", {
    id: tokenId,
    part: "token-input",
    class: "field field--mono",
    rows: "4",
    spellcheck: "false",
    autocomplete: "off",
    autocapitalize: "off",
    placeholder: "eyJhbGciOiJFUzI1NiIs…",
  });
  const tokenSubmit = h("button", { type: "submit", class: "btn btn--primary" }, "Sign in");
  controls.push(tokenSubmit);
  const tokenForm = h(
    "form",
    { class: "signin__token", novalidate: true },
    h("label", { for: tokenId, class: "label", text: "Agent token" }),
    tokenInput,
    h("p", { class: "signin__hint", text: "Your team's sign-in gives you a token; you can also open this page as /console#token=…" }),
    tokenSubmit,
  );
  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    onToken(tokenInput.value);
  });
  tokenInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      tokenForm.requestSubmit();
    }
  });

  const el = h(
    "main",
    { class: "signin", "aria-labelledby": titleId },
    h(
      "div",
      { class: "signin__card" },
      h("h1", { id: titleId, class: "signin__title" }, h("span", { class: "topbar__logo", "aria-hidden": "true", text: "DCS" }), " Agent console"),
      config.demo
        ? h("p", { class: "signin__lead", text: "Demo mode: choose an agent to sign in as." })
        : h("p", { class: "signin__lead", text: "Paste your agent token to sign in." }),
      error,
      status,
      picker,
      config.demo
        ? h("details", { class: "signin__more" }, h("summary", { text: "Use an agent token instead" }), tokenForm)
        : tokenForm,
    ),
  );

  return {
    el,
    setError(message) {
      setText(error, message || "");
    },
    setBusy(busy, message = "") {
      setText(status, busy ? message || "Signing in…" : "");
      for (const control of controls) control.disabled = busy;
      tokenInput.readOnly = busy;
    },
    clearToken() {
      tokenInput.value = "";
    },
    focus() {
      const first = picker ? picker.querySelector("button") : tokenInput;
      if (first) first.focus();
    },
  };
}
