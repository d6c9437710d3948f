// Draws each report chart from the JSON the page carries next to it (no inline scripts). Money axes and
// tooltips are written in the page's language and the installation's currency.
(function () {
  "use strict";

  var COLOURS = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#dc3545", "#198754", "#0dcaf0", "#6c757d"];

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var lang = document.documentElement.lang || "vi";
    var money = new Intl.NumberFormat(lang, { style: "currency", currency: canvas.dataset.currency || "VND", maximumFractionDigits: 0 });
    var number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    function left(value) { return data.money_axis ? money.format(value) : number.format(value); }
    function right(value) { return data.right_axis === "percent" ? number.format(value) + " %" : number.format(value); }
    var datasets = data.series.map(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {
        type: s.kind, label: s.label, data: s.values, yAxisID: s.axis, stack: s.stack || undefined,
        backgroundColor: s.kind === "line" ? colour : colour + "cc", borderColor: colour, borderWidth: s.kind === "line" ? 2 : 1,
        tension: 0.2, pointRadius: 3
      };
    });
    var stacked = data.series.some(function (s) { return s.stack; });
    var scales = { x: { stacked: stacked }, y: { beginAtZero: true, stacked: stacked, ticks: { callback: left } } };
    if (data.right_axis) {
      scales.y1 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, ticks: { callback: right } };
    }
    var chart = new window.Chart(canvas, {
      type: data.kind,
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, scales: scales,
        plugins: {
          tooltip: {
            callbacks: {
              label: function (item) {
                var value = item.raw === null ? "" : (item.dataset.yAxisID === "y1" ? right(item.raw) : left(item.raw));
                return item.dataset.label + ": " + value;
              }
            }
          }
        }
      }
    });
    canvas.chart = chart;
    canvas.dataset.rendered = String(data.labels.length);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart-source]").forEach(draw);
  });
})();
