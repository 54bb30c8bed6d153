// Applies what the server pushes to the store, and says what the agent should know.
import { Event } from "../src/protocol.js";
import { customerLabel } from "./format.js";

const REVOKED = {
  transferred: "was transferred to another queue",
  handed_on: "went back to the front of the queue for another agent",
  reassigned: "was given to another agent",
  timeout: "timed out",
};

export function createSync({ store, actions, notify }) {
  const handlers = {
    [Event.AGENT_STATE]: (data) => {
      const live = store.list().filter((entry) => entry.session.state === "live");
      store.setAgent(data);
      // sessions that left us while we were disconnected (handed on after the grace period)
      const lost = live.filter((entry) => !store.holds(entry.id));
      if (lost.length) {
        const who = lost.map((entry) => customerLabel(entry.customer)).join(", ");
        notify(`While you were disconnected, your chats with ${who} went back to the queue for another agent.`);
      }
    },
    [Event.QUEUE_SNAPSHOT]: (data) => store.setQueue(data),
    [Event.QUEUE_CHANGES]: (data) => store.applyQueueChanges(data),
    [Event.SESSION_HANDOFF]: (data) => store.upsertHandoff(data),
    [Event.SESSION_REVOKED]: (data) => {
      const id = data && typeof data.session_id === "string" ? data.session_id : "";
      const entry = store.get(id);
      if (!entry) return;
      const name = customerLabel(entry.customer);
      const reason = typeof data.reason === "string" ? data.reason : "";
      store.removeSession(id);
      if (reason !== "ended") {
        notify(`The session with ${name} ${REVOKED[reason] || "is no longer assigned to you"}.`);
      }
    },
    [Event.SESSION_STATE]: (data) => {
      const before = store.get(data && data.session_id)?.session.state;
      const entry = store.setSession(data);
      if (entry && before === "live" && entry.session.state === "wrap_up" && !actions.isBusy(`end:${entry.id}`)) {
        notify(`${customerLabel(entry.customer)} closed the chat. Add wrap-up notes to finish.`);
      }
    },
    [Event.CHAT_MESSAGE]: (data) => {
      const id = data && typeof data.session_id === "string" ? data.session_id : "";
      if (!id) return;
      const { gap } = store.addMessages(id, [data], { live: true });
      if (gap) actions.refill(id);
    },
    [Event.CHAT_TYPING]: (data) => {
      if (!data || typeof data.session_id !== "string") return;
      const role = data.sender && data.sender.role;
      if (role === "customer") store.setTyping(data.session_id, data.typing === true);
    },
    [Event.ERROR]: (data) => {
      const message = data && typeof data.message === "string" ? data.message : "";
      if (message) notify(message);
    },
  };

  return function apply(name, data) {
    const handler = handlers[name];
    if (handler) handler(data);
  };
}
