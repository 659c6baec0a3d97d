// Honest uncertainty in the measure panel: on an image placed by control points, the server's
// measure answer carries the placement's RMSE (placement_error_m, from
// imagery/georef/placement.py) and each size the panel shows gets "± N m" beside it: a side
// or a length ± the RMSE, an area ± (length + width) × RMSE (the first-order change of a
// rectangle's area when both sides move by it). The tolerance row says what it is made of.
// An image placed exactly (a north-up geotransform) gets nothing added.
(function () {
  "use strict";
  var AW = window.AW;

  // The RMSE to the precision it deserves: 0.85, 3.2, 12 (as placement.py's `metres`).
  AW.errorText = function (value) {
    if (value >= 10) return AW.figure(value, 0);  // in the page's digits (figures.js)
    if (value >= 1) return AW.figure(Number(value.toFixed(1)));
    return AW.figure(Number(value.toFixed(2)));
  };

  function plusMinus(error, unit) { return " ± " + AW.ltr(AW.errorText(error)) + " " + unit; }

  // rows: [[name, text], ...] as measure.js builds them; returns them with the error added.
  AW.withPlacement = function (result, rows) {
    var error = result.placement_error_m;
    if (typeof error !== "number" || !isFinite(error) || error <= 0) return rows;
    var t = window.Annotator.t;
    var m = result.measurements || {};
    var gsd = result.gsd_m;
    return rows.map(function (row) {
      var name = row[0], text = row[1];
      if (name === "length × span" || name === "sides" || name === "length") {
        return [name, text + plusMinus(error, AW.unit.m)];
      }
      if (name === "area" && m.length_m && m.width_m) {
        var spread = (m.length_m + m.width_m) * error;
        var area = spread >= 1e5 ? AW.ltr(AW.errorText(spread / 1e6)) + " " + AW.unit.km2
          : AW.ltr(AW.figure(Math.round(spread))) + " " + AW.unit.m2;
        return [name, text + " ± " + area];
      }
      if (name === "tolerance") {
        return [name, t("± %(tolerance)s m (2 px at %(gsd)s m + placement RMSE %(rmse)s m)", {
          tolerance: AW.ltr(AW.figure(result.tolerance_m)), gsd: AW.ltr(AW.figure(gsd)), rmse: AW.ltr(AW.errorText(error))
        })];
      }
      return row;
    }).concat([["placement", t("RMSE %(rmse)s m: each size may be off by about this much",
                               { rmse: AW.ltr(AW.errorText(error)) })]]);
  };
})();
