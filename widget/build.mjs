// Bundles the browser code into signaling_server/static/, which the server serves:
//   /widget/dcs-widget.js          the one script a host page loads (IIFE, minified; short cache + ETag)
//   /widget/dcs-call-HASH.js       the call code (ES module), imported by the widget only when a call starts
//   /widget/dcs-cobrowse-HASH.js   the co-browse code (ES module: recorder, transport, consent UI)
//   /widget/dcs-locale-XX-HASH.js  the widget's texts in one language (es, de, fr, ar), loaded before its UI
//   /widget/manifest.json          {call, cobrowse, locale-XX}: the hashed names (also built into the loader)
//   /console/                      the agent console page, its script and stylesheet
//   /console/dcs-charts-HASH.js    Chart.js and the Reports charts (ES module), imported when Reports opens
// Chunks are content-hashed (served immutable); dcs-call.js / dcs-cobrowse.js stay as
// short-cached aliases for pages that import them by name. Every text asset is written
// pre-compressed next to itself (.br and .gz), which the server sends as browsers ask.
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "signaling_server", "static");
const watch = process.argv.includes("--watch");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "widget"), { recursive: true });
mkdirSync(join(out, "console"), { recursive: true });

const common = { bundle: true, minify: !watch, sourcemap: true, target: ["es2020"], logLevel: "info" };

const chunks = {};
// every locale but English (built into the loader) is a chunk of its own: dcs-locale-XX-HASH.js
const LOCALE_CHUNKS = ["es", "de", "fr", "ar"].map((lang) => [`locale-${lang}`, join(here, "src", "i18n", "locales", `${lang}.js`)]);
for (const [key, entry] of [
  ["call", join(here, "src", "call", "widget-entry.js")],
  ["cobrowse", join(here, "src", "cobrowse", "widget-entry.js")],
  ...LOCALE_CHUNKS,
]) {
  const result = await build({
    ...common,
    entryPoints: { [`dcs-${key}`]: entry },
    outdir: join(out, "widget"),
    entryNames: "[name]-[hash]",
    format: "esm",
    metafile: true,
  });
  chunks[key] = basename(Object.keys(result.metafile.outputs).find((f) => f.endsWith(".js")));
  cpSync(join(out, "widget", chunks[key]), join(out, "widget", `dcs-${key}.js`));
}
writeFileSync(join(out, "widget", "manifest.json"), JSON.stringify(chunks));
await build({
  ...common,
  entryPoints: [join(here, "src", "index.js")],
  outfile: join(out, "widget", "dcs-widget.js"),
  format: "iife",
  define: { __DCS_CHUNKS__: JSON.stringify(chunks) },
});
// the console's own chunks: Chart.js and the Reports view's charts, imported only when the
// Reports view opens (console/reports/index.js): /console/dcs-charts-HASH.js
const consoleChunks = {};
for (const [key, entry] of [["charts", join(here, "console", "reports", "charts.js")]]) {
  const result = await build({
    ...common,
    entryPoints: { [`dcs-${key}`]: entry },
    outdir: join(out, "console"),
    entryNames: "[name]-[hash]",
    format: "esm",
    metafile: true,
  });
  consoleChunks[key] = basename(Object.keys(result.metafile.outputs).find((f) => f.endsWith(".js")));
}
await build({
  ...common,
  entryPoints: [join(here, "console", "console.js")],
  outfile: join(out, "console", "console.js"),
  format: "iife",
  define: { __DCS_CONSOLE_CHUNKS__: JSON.stringify(consoleChunks) },
});
for (const file of ["index.html", "console.css"]) {
  cpSync(join(here, "console", file), join(out, "console", file));
}
// rrweb's replayer styles (the customer's pointer over the co-browse view)
cpSync(join(here, "node_modules", "rrweb", "dist", "style.css"), join(out, "console", "rrweb.css"));
// the call UI's styles, shared with the widget (which adopts them into its shadow root)
const { CALL_CSS } = await import("./src/call/styles.js");
writeFileSync(join(out, "console", "call.css"), CALL_CSS.trimStart());

// pre-compressed copies, at the highest levels (built once, served many times)
const COMPRESSIBLE = /\.(js|css|html|json|map)$/;
function compressAll(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) compressAll(path);
    else if (COMPRESSIBLE.test(name)) {
      const data = readFileSync(path);
      writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
      writeFileSync(
        `${path}.br`,
        brotliCompressSync(data, {
          params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length },
        }),
      );
    }
  }
}
compressAll(out);
