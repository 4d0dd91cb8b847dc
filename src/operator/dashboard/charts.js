// Line charts as SVG, drawn by hand: lineChart(id, title, times, series, format) returns a
// <figure class="chart"> whose data-points and data-max attributes hold how many samples it
// draws and their highest value, and whose legend shows each series' last value.
// `series`: [{name, values (null: no value), color}]; `integer`: the values are counts, so the
// grid lines fall on whole numbers.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART_W = 600, CHART_H = 170, PAD_L = 48, PAD_R = 8, PAD_T = 8, PAD_B = 20;

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// A round top for the y axis: 1, 2 or 5 times a power of ten, at least `max`.
function niceMax(max) {
  if (!(max > 0)) return 1;
  const step = Math.pow(10, Math.floor(Math.log10(max)));
  for (const m of [1, 2, 5, 10]) if (m * step >= max) return m * step;
  return 10 * step;
}

// The time of a sample; with seconds when the chart spans less than ten minutes.
function clock(ms, span) {
  const fields = {hour: "2-digit", minute: "2-digit"};
  if (span < 600000) fields.second = "2-digit";
  return new Date(ms).toLocaleTimeString([], fields);
}

function lineChart(id, title, times, series, format, integer = false) {
  const figure = document.createElement("figure");
  figure.className = "chart";
  figure.id = id;
  figure.dataset.points = String(times.length);
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  figure.appendChild(caption);
  const svg = svgEl("svg", {viewBox: `0 0 ${CHART_W} ${CHART_H}`});
  figure.appendChild(svg);
  const values = series.flatMap(s => s.values).filter(v => v !== null && v !== undefined);
  const max = Math.max(0, ...values);
  figure.dataset.max = String(max);
  const top = integer ? Math.max(4, Math.ceil(niceMax(max) / 4) * 4) : niceMax(max);
  const t0 = times.length ? times[0] : 0, t1 = times.length ? times[times.length - 1] : 1;
  const x = t => PAD_L + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (CHART_W - PAD_L - PAD_R);
  const y = v => PAD_T + (1 - v / top) * (CHART_H - PAD_T - PAD_B);
  for (let i = 0; i <= 4; i++) {
    const v = top * i / 4;
    svg.appendChild(svgEl("line", {class: "grid", x1: PAD_L, x2: CHART_W - PAD_R, y1: y(v), y2: y(v)}));
    svg.appendChild(svgEl("text", {x: PAD_L - 4, y: y(v) + 3, "text-anchor": "end"}, format(v)));
  }
  if (times.length === 0) {
    svg.appendChild(svgEl("text", {class: "empty", x: CHART_W / 2, y: CHART_H / 2, "text-anchor": "middle"},
                          "collecting samples…"));
  } else {
    svg.appendChild(svgEl("text", {x: PAD_L, y: CHART_H - 4}, clock(t0, t1 - t0)));
    svg.appendChild(svgEl("text", {x: CHART_W - PAD_R, y: CHART_H - 4, "text-anchor": "end"},
                          clock(t1, t1 - t0)));
  }
  const legend = document.createElement("div");
  legend.className = "legend";
  for (const s of series) {
    // One polyline per run of known values.
    let run = [];
    const flush = () => {
      if (run.length === 1) {
        svg.appendChild(svgEl("circle", {cx: run[0][0], cy: run[0][1], r: 2, fill: s.color}));
      } else if (run.length > 1) {
        svg.appendChild(svgEl("polyline", {points: run.map(p => p.join(",")).join(" "), fill: "none",
                                           stroke: s.color, "stroke-width": 1.5,
                                           "vector-effect": "non-scaling-stroke"}));
      }
      run = [];
    };
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) flush();
      else run.push([x(times[i]).toFixed(1), y(v).toFixed(1)]);
    });
    flush();
    const known = s.values.filter(v => v !== null && v !== undefined);
    const item = document.createElement("span");
    item.className = "series";
    item.dataset.series = s.name;
    const swatch = document.createElement("i");
    swatch.style.background = s.color;
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(
        `${s.name} ${known.length ? format(known[known.length - 1]) : "–"}`));
    legend.appendChild(item);
  }
  figure.appendChild(legend);
  return figure;
}
