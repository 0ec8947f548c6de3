// Charts of the reports: uPlot (vendored) draws what data-chart holds; the table under
// each chart has the same figures for those who would rather read, and for screen readers.
(function () {
  "use strict";
  var colours = ["#0b6bcb", "#087443", "#b42318", "#8e44ad"];
  function draw(box) {
    var data = JSON.parse(box.dataset.chart);
    var currency = box.dataset.currency;
    var lang = document.documentElement.lang || "en";
    var money = new Intl.NumberFormat(lang, { style: "currency", currency: currency, currencyDisplay: "narrowSymbol", maximumFractionDigits: 0 });
    var times = data.days.map(function (day) { return Date.parse(day + "T12:00:00Z") / 1000; });
    var series = [{}];
    var values = [times];
    ["paid", "bonus", "credit"].forEach(function (name, index) {
      series.push({ label: data.labels[index], stroke: colours[index], width: 2, value: function (u, v) { return v == null ? "" : money.format(v); } });
      values.push(data[name]);
    });
    var options = {
      width: box.clientWidth || 800,
      height: 260,
      series: series,
      axes: [{}, { size: 80, values: function (u, ticks) { return ticks.map(function (v) { return money.format(v); }); } }],
      scales: { x: { time: true } }
    };
    var plot = new uPlot(options, values, box);
    window.addEventListener("resize", function () { plot.setSize({ width: box.clientWidth, height: 260 }); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
