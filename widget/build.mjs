// Bundles the browser code into signaling_server/static/, which the server serves:
//   /widget/dcs-widget.js   the one script a host page loads (IIFE, minified)
//   /widget/dcs-call.js     the call code (ES module), imported by the widget only when a call starts
//   /widget/dcs-cobrowse.js the co-browse code (ES module: recorder, transport, consent UI), imported when co-browse starts
//   /console/               the agent console page, its script and stylesheet
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "signaling_server", "static");
const watch = process.argv.includes("--watch");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "widget"), { recursive: true });
mkdirSync(join(out, "console"), { recursive: true });

const common = { bundle: true, minify: !watch, sourcemap: true, target: ["es2020"], logLevel: "info" };

await build({
  ...common,
  entryPoints: [join(here, "src", "index.js")],
  outfile: join(out, "widget", "dcs-widget.js"),
  format: "iife",
});
await build({
  ...common,
  entryPoints: [join(here, "src", "call", "widget-entry.js")],
  outfile: join(out, "widget", "dcs-call.js"),
  format: "esm",
});
await build({
  ...common,
  entryPoints: [join(here, "src", "cobrowse", "widget-entry.js")],
  outfile: join(out, "widget", "dcs-cobrowse.js"),
  format: "esm",
});
await build({
  ...common,
  entryPoints: [join(here, "console", "console.js")],
  outfile: join(out, "console", "console.js"),
  format: "iife",
});
for (const file of ["index.html", "console.css"]) {
  cpSync(join(here, "console", file), join(out, "console", file));
}
// rrweb's replayer styles (the customer's pointer over the co-browse view)
cpSync(join(here, "node_modules", "rrweb", "dist", "style.css"), join(out, "console", "rrweb.css"));
// the call UI's styles, shared with the widget (which adopts them into its shadow root)
const { CALL_CSS } = await import("./src/call/styles.js");
writeFileSync(join(out, "console", "call.css"), CALL_CSS.trimStart());
