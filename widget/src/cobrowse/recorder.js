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
