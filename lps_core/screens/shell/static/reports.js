// The report screens' chart: reads the report's chart (categories and series, money in cents)
// from the <script type="application/json" id="report-chart-data"> block and draws it with the
// vendored Apache ECharts (static/echarts). The table beneath the chart has the same figures.
// No inline script: the Content-Security-Policy allows only LPS's own files.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var holder = document.getElementById("report-chart");
  var data = document.getElementById("report-chart-data");
  if (!holder || !data || !window.echarts) {
    return;
  }
  var chart = JSON.parse(data.textContent);
  var moneyAxis = false;
  var series = chart.series.map(function (one, index) {
    var money = one.kind === "money";
    moneyAxis = moneyAxis || money;
    return {
      name: one.name,
      type: one.type,
      yAxisIndex: one.type === "line" && chart.series.length > 1 ? 1 : 0,
      data: one.data.map(function (value) { return value === null ? null : Number(value); })
    };
  });
  var axes = [{type: "value"}];
  if (series.some(function (one) { return one.yAxisIndex === 1; })) {
    axes.push({type: "value", splitLine: {show: false}});
  }
  var drawn = window.echarts.init(holder, null, {renderer: "canvas"});
  drawn.setOption({
    animation: false,
    title: {text: chart.title, left: "center", textStyle: {fontSize: 14}},
    tooltip: {trigger: "axis"},
    legend: {bottom: 0},
    grid: {left: 60, right: 60, top: 40, bottom: 50},
    xAxis: {type: "category", data: chart.categories},
    yAxis: axes,
    series: series
  });
  holder.dataset.rendered = "true";
  window.addEventListener("resize", function () { drawn.resize(); });
  window.addEventListener("beforeprint", function () { drawn.resize(); });
});
