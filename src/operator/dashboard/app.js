// The Axon dashboard: "/" lists the APIs, "/apis/NAME" shows one. Reads the management API's
// JSON (GET /v1/apis, /v1/apis/NAME, .../history, .../versions, .../logs) with the session
// cookie and redraws every few seconds.
"use strict";

const REFRESH_MS = 5000;
const COLORS = ["#2563eb", "#db2777", "#16a34a", "#ea580c", "#7c3aed", "#0891b2", "#65a30d", "#be123c"];

class SignedOut extends Error {}

async function getJson(path) {
  const res = await fetch(path, {headers: {Accept: "application/json"}});
  if (res.status === 401) throw new SignedOut();
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || `${path}: HTTP ${res.status}`);
  return body;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : String(c));
  return node;
}

const fixed = (digits, unit) => v => v === null || v === undefined ? "–" : `${Number(v).toFixed(digits)}${unit}`;
const ms = v => v === null || v === undefined ? "–" : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 2 : 1)} ms`;
const rate = fixed(1, "/s");
const percent = v => v === null || v === undefined ? "–" : `${(100 * v).toFixed(v > 0 && v < 0.001 ? 3 : 1)}%`;
const mib = v => v === null || v === undefined ? "–" : `${(v / 1048576).toFixed(0)} MiB`;

function statusCell(api) {
  return el("td", {className: `status ${api.status}`, title: api.reason || ""}, api.status);
}

// A table cell with a formatted number; data-value keeps the number itself.
function number(className, value, format) {
  return el("td", {className: `num ${className}`, dataset: {value: value ?? ""}}, format(value));
}

function table(id, headers, rows) {
  return el("table", {id},
            el("thead", {}, el("tr", {}, ...headers.map(h => el("th", {}, h)))),
            el("tbody", {}, ...rows));
}

// "/": every API with its status and last minute.
async function listPage(main) {
  const apis = await getJson("/v1/apis");
  const rows = apis.map(a => el("tr", {dataset: {api: a.name}},
      el("td", {}, el("a", {href: `/apis/${encodeURIComponent(a.name)}`}, a.name)),
      el("td", {}, a.kind),
      statusCell(a),
      el("td", {className: "num replicas"}, a.kind === "TrafficSplitter" ? "–" : `${a.up_to_date}/${a.requested}`),
      number("rps", a.requests_per_s, rate),
      number("p99", a.p99_ms, ms),
      number("errors", a.error_rate, percent)));
  main.replaceChildren(
      el("h1", {}, "APIs"),
      apis.length === 0
          ? el("p", {className: "muted"}, "No APIs yet: deploy one with `axon deploy`.")
          : table("api-list", ["API", "Kind", "Status", "Replicas up/requested", "Requests/s",
                               "p99 (1 min)", "5XX (1 min)"], rows));
}

function charts(h) {
  const t = h.t;
  const replicaSeries = field => Object.entries(h.replicas).map(([id, r], i) => (
      {name: id, values: r[field], color: COLORS[i % COLORS.length]}));
  return el("div", {className: "charts"},
      lineChart("chart-requests", "Request rate", t,
                [{name: "requests/s", values: h.requests_per_s, color: COLORS[0]}], fixed(1, "")),
      lineChart("chart-in-flight", "In-flight requests", t,
                [{name: "in flight", values: h.in_flight, color: COLORS[4]}], fixed(0, ""), true),
      lineChart("chart-replicas", "Active replicas", t,
                [{name: "ready", values: h.ready, color: COLORS[2]},
                 {name: "requested", values: h.requested, color: COLORS[5]}], fixed(0, ""), true),
      lineChart("chart-status", "Responses by class (per second)", t,
                [{name: "2XX", values: h.rate_2xx, color: COLORS[2]},
                 {name: "4XX", values: h.rate_4xx, color: COLORS[3]},
                 {name: "5XX", values: h.rate_5xx, color: "#b91c1c"}], fixed(1, "")),
      lineChart("chart-latency", "Latency", t,
                [{name: "p50", values: h.p50_ms, color: COLORS[0]},
                 {name: "p90", values: h.p90_ms, color: COLORS[4]},
                 {name: "p99", values: h.p99_ms, color: COLORS[1]},
                 {name: "avg", values: h.avg_ms, color: COLORS[6]}], ms),
      lineChart("chart-cpu", "CPU per replica (% of a core)", t, replicaSeries("cpu_percent"), fixed(1, "%")),
      lineChart("chart-memory", "Memory per replica (resident)", t, replicaSeries("rss_bytes"), mib));
}

// "/apis/NAME": one API's charts, replicas, versions, spec and log tail.
async function apiPage(main, name) {
  const base = `/v1/apis/${encodeURIComponent(name)}`;
  const [api, history, versions, logs] = await Promise.all(
      [getJson(base), getJson(`${base}/history`), getJson(`${base}/versions`), getJson(`${base}/logs?tail=50`)]);
  document.title = `Axon: ${name}`;
  const tile = (label, value, cls) => el("div", {className: `tile ${cls}`}, el("b", {}, value), label);
  const replicas = (api.replicas || []).map(r => el("tr", {},
      el("td", {}, r.id), el("td", {}, `v${r.version}`), el("td", {}, r.state),
      el("td", {className: "num"}, r.pid || "–"), el("td", {className: "num"}, r.in_flight),
      el("td", {className: "num"}, r.restarts), el("td", {}, r.last_failure || "")));
  const versionRows = versions.map(v => el("tr", {},
      el("td", {}, `v${v.version}${v.current ? " (current)" : ""}`),
      el("td", {}, new Date(v.updated_at * 1000).toLocaleString()),
      el("td", {}, v.bundle.slice(0, 12))));
  const logBox = el("pre", {id: "logs"}, logs.text || "(no log lines yet)");
  main.replaceChildren(
      el("p", {}, el("a", {href: "/"}, "← APIs")),
      el("h1", {}, name, " ", el("span", {className: `status ${api.status}`}, api.status)),
      api.reason ? el("p", {className: "error"}, api.reason) : "",
      el("div", {className: "tiles"},
         tile("requests/s (1 min)", rate(api.requests_per_s), "rps"),
         tile("p50 (1 min)", ms(api.p50_ms), "p50"),
         tile("p99 (1 min)", ms(api.p99_ms), "p99"),
         tile("5XX (1 min)", percent(api.error_rate), "errors"),
         tile("2XX / 4XX / 5XX", `${api.requests_2xx} / ${api.requests_4xx} / ${api.requests_5xx}`, "totals"),
         tile("replicas up/requested", `${api.up_to_date}/${api.requested}`, "replicas"),
         tile("endpoint", api.endpoint, "endpoint")),
      el("h2", {}, `Last hour (a sample every ${history.interval_ms / 1000} s)`),
      charts(history),
      el("h2", {}, "Replicas"),
      table("replicas", ["Replica", "Version", "State", "PID", "In flight", "Restarts", "Last failure"], replicas),
      el("h2", {}, "Versions"),
      table("versions", ["Version", "Deployed", "Bundle"], versionRows),
      el("h2", {}, "Logs (last 50 lines)"),
      logBox,
      el("h2", {}, "Spec"),
      el("pre", {id: "spec"}, JSON.stringify(api.spec, null, 2)));
  logBox.scrollTop = logBox.scrollHeight;
}

async function render() {
  const main = document.getElementById("main");
  const path = location.pathname;
  try {
    if (path.startsWith("/apis/")) await apiPage(main, decodeURIComponent(path.slice(6)));
    else await listPage(main);
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (e instanceof SignedOut) {
      location.assign(`/login?next=${encodeURIComponent(path)}`);
      return;
    }
    main.replaceChildren(el("p", {className: "error", id: "load-error"}, e.message));
  }
}

render();
setInterval(render, REFRESH_MS);
