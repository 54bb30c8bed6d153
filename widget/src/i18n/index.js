// The widget's languages. English is built into the first script; every other locale is a
// small chunk (dcs-locale-XX-HASH.js, built from locales/XX.js) loaded before the UI is
// made, so a page never flashes English first. Chosen by data-locale / DCSConfig.locale,
// else the browser's languages, else English.
import en from "./en.js";

export const LOCALES = ["en", "es", "de", "fr", "ar"];
const RTL = new Set(["ar", "he", "fa", "ur"]);

// the first supported language among the requested one and the browser's ("es-MX" -> "es")
export function pickLocale(requested, languages = []) {
  for (const tag of [requested, ...languages]) {
    const base = typeof tag === "string" ? tag.trim().toLowerCase().split(/[-_]/)[0] : "";
    if (LOCALES.includes(base)) return base;
  }
  return "en";
}

function fill(text, vars) {
  return vars ? text.replace(/\{(\w+)\}/g, (all, name) => (vars[name] != null ? String(vars[name]) : all)) : text;
}

// t("status_live", {name}) -> the text in `locale`; t.plural("wait_minutes", 3);
// t.with(english) -> the same, falling back to more English texts (a chunk's own)
export function createTranslator(locale = "en", table = null, defaults = en) {
  const own = table && typeof table === "object" ? table : {};
  let rules = null;
  try {
    rules = new Intl.PluralRules(locale);
  } catch (_) {
    /* no Intl: every count is "other" */
  }
  const t = (key, vars) => fill(typeof own[key] === "string" ? own[key] : defaults[key] != null ? defaults[key] : key, vars);
  t.with = (english) => createTranslator(locale, own, { ...defaults, ...english });
  t.has = (key) => typeof own[key] === "string"; // in this locale's own table (not English)
  t.plural = (key, n, vars) => t(`${key}_${rules && rules.select(n) === "one" ? "one" : "other"}`, { n, ...vars });
  t.locale = locale;
  t.dir = RTL.has(locale) ? "rtl" : "ltr";
  return t;
}

// resolves the translator for `locale`, loading its chunk; English if that fails
export function loadTranslator(locale, urls) {
  if (locale === "en" || !urls || !urls[locale]) return Promise.resolve(createTranslator("en"));
  return import(/* webpackIgnore: true */ urls[locale]).then(
    (mod) => createTranslator(locale, mod.default),
    (err) => {
      console.error(`[DCS] the "${locale}" texts could not be loaded; using English:`, err);
      return createTranslator("en");
    },
  );
}
