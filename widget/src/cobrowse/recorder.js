// Records the customer's page with rrweb under the privacy policy; returns stop(). Every
// event passes the redactor (redact.js) before emit() sees it.
import { record } from "@rrweb/record";
import { recordOptions } from "./privacy.js";
import { createRedactor } from "./redact.js";
import { startCanvasRecording } from "./canvas.js";

export function startRecording({ policy = {}, emit }) {
  const redact = createRedactor({ policy, mirror: record.mirror });
  const stop = record({
    emit: (event, isCheckout) => {
      const out = redact(event);
      if (out) emit(out, isCheckout);
    },
    ...recordOptions(policy),
    recordCanvas: false,
    collectFonts: false,
    inlineImages: false,
    inlineStylesheet: true,
    // "all" but title changes, which the agent's console shows (a single-page app's title)
    slimDOMOptions: {
      script: true,
      comment: true,
      headFavicon: true,
      headWhitespace: true,
      headMetaSocial: true,
      headMetaRobots: true,
      headMetaHttpEquiv: true,
      headMetaVerification: true,
      headMetaAuthorship: true,
      headMetaDescKeywords: true,
      headTitleMutations: false,
    },
    sampling: { mousemove: 50, scroll: 150 },
  });
  // canvas, when the site opts in (canvas.js): after the snapshot, which gives canvases their ids
  const stopCanvas = policy.canvas === true ? startCanvasRecording({ mirror: record.mirror, emit }) : null;
  return () => {
    if (stopCanvas) stopCanvas();
    if (stop) stop();
  };
}

// The page's node behind an id of the current recording (the ids the agent's view uses),
// or null. rrweb never reuses an id within a page, so an id from an earlier recording of
// this page finds nothing.
export function nodeById(id) {
  return Number.isInteger(id) ? record.mirror.getNode(id) : null;
}
