// Records the customer's page with rrweb under the privacy policy; returns stop().
import { record } from "@rrweb/record";
import { recordOptions } from "./privacy.js";

export function startRecording({ policy = {}, emit }) {
  const stop = record({
    emit,
    ...recordOptions(policy),
    recordCanvas: false,
    collectFonts: false,
    inlineImages: false,
    inlineStylesheet: true,
    slimDOMOptions: "all",
    sampling: { mousemove: 50, scroll: 150 },
  });
  return () => {
    if (stop) stop();
  };
}

// The page's node behind an id of the current recording (the ids the agent's view uses),
// or null. rrweb never reuses an id within a page, so an id from an earlier recording of
// this page finds nothing.
export function nodeById(id) {
  return Number.isInteger(id) ? record.mirror.getNode(id) : null;
}
