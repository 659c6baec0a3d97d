// Figures for people in the page's language (issue 16), as the server's `number`, `moment` and
// `day` filters write them (annotator/language/formats.py): through Intl in <html lang>, with
// Latin digits, or Arabic-Indic ones on an Arabic page when ANNOTATOR_ARABIC_DIGITS says so
// (base.html's <meta name="annotator-digits">: "latin" or "arabic-indic"). Coordinates are
// never written in Arabic-Indic digits: Annotator.figures.coordinate stays Latin.
//
// Loaded by base.html right after common.js, for classic scripts and modules alike:
//   var figures = window.Annotator.figures;
//   figures.number(1234.5)      "1,234.5"          (ar, arabic-indic: "١٬٢٣٤٫٥")
//   figures.number(3.14159, 2)  "3.14"             fixed places
//   figures.percent(0.425)      "43%"              a fraction 0..1, whole percent
//   figures.moment(iso)         "2024-12-13 08:21 UTC"   (ar: "13 ديسمبر 2024، 08:21 UTC")
//   figures.day(iso)            "2024-12-13"             (ar: "13 ديسمبر 2024")
//   figures.digits("12 of 40")  "12 of 40"         (ar, arabic-indic: "١٢ of ٤٠") as is, digits only
//   figures.written("1,234.5")  "1,234.5"          a figure as the server wrote it (arabic-indic: "١٬٢٣٤٫٥")
//   figures.coordinate(35.4, 6) "35.400000"        always Latin, no grouping
// Annotator.moment (common.js) is this moment from here on, so every script's timestamps follow.
(function () {
  "use strict";
  var A = window.Annotator, t = window.Annotator.t;
  var language = document.documentElement.lang || "en";
  var meta = document.querySelector('meta[name="annotator-digits"]');
  var arabicIndic = language === "ar" && !!meta && meta.content === "arabic-indic";
  var locale = language === "en" ? "en" : language + (arabicIndic ? "-u-nu-arab" : "-u-nu-latn");
  var cache = {};

  function format(key, options) {
    if (!cache[key]) cache[key] = new Intl.NumberFormat(locale, options);
    return cache[key];
  }

  function number(value, decimals) {
    if (typeof value !== "number" || !isFinite(value)) return String(value);
    var fixed = typeof decimals === "number";
    return format("n" + (fixed ? decimals : ""), {
      minimumFractionDigits: fixed ? decimals : 0,
      maximumFractionDigits: fixed ? decimals : 3
    }).format(value);
  }

  function percent(fraction, decimals) {
    if (typeof fraction !== "number" || !isFinite(fraction)) return String(fraction);
    var places = typeof decimals === "number" ? decimals : 0;
    return format("p" + places, {
      style: "percent", minimumFractionDigits: places, maximumFractionDigits: places
    }).format(fraction);
  }

  function when(iso) {
    var date = iso ? new Date(iso) : null;
    return date && !isNaN(date.getTime()) ? date : null;
  }

  function parts(date, options) {
    var found = {};
    new Intl.DateTimeFormat(locale, Object.assign({ timeZone: "UTC" }, options))
      .formatToParts(date).forEach(function (part) { found[part.type] = part.value; });
    return found;
  }

  function day(iso) {
    var date = when(iso);
    if (!date) return t("date unknown");
    if (language === "en") return date.toISOString().slice(0, 10);
    var p = parts(date, { day: "numeric", month: "long", year: "numeric" });
    return p.day + " " + p.month + " " + p.year;
  }

  function moment(iso) {
    var date = when(iso);
    if (!date) return t("date unknown");
    if (language === "en") return date.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    var p = parts(date, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    return day(iso) + "\u060c " + p.hour + ":" + p.minute + " UTC";
  }

  // the digits of `text` as the page writes them (the server's `digits` filter): for counts
  // in sentences; t("%(num)s saved", {num: 3}) passes numbers through it (common.js, i18n.js)
  function digits(text) {
    return arabicIndic ? String(text).replace(/[0-9]/g, function (d) { return "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669".charAt(Number(d)); }) : String(text);
  }

  // a figure the server already wrote ("1,234", "0.85") in the page's digits and separators
  function written(text) {
    return arabicIndic ? digits(text).replace(/,/g, "\u066c").replace(/\./g, "\u066b") : String(text);
  }

  function coordinate(value, decimals) {
    return typeof value === "number" ? value.toFixed(decimals) : String(value);
  }

  A.figures = {
    locale: locale, number: number, percent: percent, moment: moment, day: day,
    digits: digits, written: written, coordinate: coordinate
  };
  A.moment = moment;
})();
