// The interface's strings for scripts (issue 16): t("...") is a string in the page's language
// (<html lang>), from the catalogue the app serves at /i18n/<lang>.json (the strings of the
// scripts in annotator/translations/<lang>/LC_MESSAGES/messages.po; `make messages` finds each
// t("...") call). Values fill %(name)s: t("%(num)s saved", {num: 3}). A string missing from the
// catalogue, or a catalogue that cannot be read, gives the English.
//
//   import { t } from "/static/i18n.js";   (or a relative path from the importing module)

export const language = document.documentElement.lang || "en";

async function load() {
  if (language === "en") return {};
  try {
    const address = new URL(`../i18n/${encodeURIComponent(language)}.json`, import.meta.url);
    const response = await fetch(address, { credentials: "same-origin" });
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

const strings = await load();

// A server's refusal in the page's language: a lead-in chosen by the error code, then the
// server's English isolated left-to-right (refusal.js, loaded by base.html before any module).
export function refusal(body, status) { return window.Annotator.refusal(body, status); }
export function refusalText(body, status) { return window.Annotator.refusalText(body, status); }

export function t(text, values) {
  const found = Object.prototype.hasOwnProperty.call(strings, text) ? strings[text] : text;
  if (!values) return found;
  return found.replace(/%\((\w+)\)s/g, (whole, name) => {
    if (!Object.prototype.hasOwnProperty.call(values, name)) return whole;
    const value = values[name]; // a number in the page's digits (figures.js); text as it is
    return typeof value === "number" && window.Annotator.figures ? window.Annotator.figures.digits(String(value)) : String(value);
  });
}
