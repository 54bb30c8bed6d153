// Signing out: what the agent holds is handed on before the console disconnects. Live chats
// go back to the front of their queue (agent.signout), or are transferred to another queue
// first when the agent picks one; chats in wrap-up are closed with a note by the server.
import { Event } from "../src/protocol.js";

const SIGNOUT_TIMEOUT_MS = 5000;

export function liveChats(store) {
  return store.list().filter((entry) => entry.session.state === "live");
}

export function wrapUps(store) {
  return store.list().filter((entry) => entry.session.state === "wrap_up");
}

// queues the agent could transfer to (their skills and the queues they can see), other
// than the one every live chat is in already
export function otherQueues(store) {
  const agent = store.agent;
  const names = new Set([
    ...(agent ? agent.skills : []),
    ...store.queue.map((item) => item.queue),
    ...store.list().map((entry) => entry.session.queue),
  ]);
  names.delete("*");
  names.delete("");
  const own = new Set(liveChats(store).map((entry) => entry.session.queue));
  if (own.size === 1) names.delete([...own][0]);
  return [...names].sort();
}

// hand everything on; resolves with the agent.signout ack (never rejects). Offline, the
// server hands the chats on by itself once the agent's grace period is over.
export async function handOn({ conn, store, transferTo = "" }) {
  if (transferTo) {
    const name = (store.agent && store.agent.name) || "The agent";
    for (const entry of liveChats(store)) {
      await conn.request(Event.SESSION_TRANSFER, { session_id: entry.id, queue: transferTo, note: `${name} signed out` });
    }
  }
  return conn.request(Event.AGENT_SIGNOUT, {}, SIGNOUT_TIMEOUT_MS);
}
