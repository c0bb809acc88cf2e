// rmq-sim report: draws the run embedded in #payload. No network, no libraries.
// Errors go into #errors (and body[data-errors]) so that a headless browser test can read them.
"use strict";

const errors = [];
function reportError(message) {
  errors.push(String(message));
  const box = document.getElementById("errors");
  if (box) box.textContent = errors.join("\n");
  document.body.setAttribute("data-errors", String(errors.length));
}
window.onerror = (message, source, line) => reportError(message + " (line " + line + ")");
window.addEventListener("unhandledrejection", (e) => reportError(e.reason));
const consoleError = console.error.bind(console);
console.error = (...args) => { reportError(args.join(" ")); consoleError(...args); };

const SVG = "http://www.w3.org/2000/svg";
const D = JSON.parse(document.getElementById("payload").textContent);
const LANE_H = 24, AXIS_H = 28, STRIP_ROW = 14, LEFT = 150, RIGHT = 12, GROUP_GAP = 14;
/// Arrows drawn at most, and per pixel of the time axis: more would only make a solid band.
const MAX_DRAW = 4000, ARROWS_PER_PX = 1.5;
const STEP_COLORS = {
  send: "#0969da", attempt: "#9a6700", store: "#8250df", ack: "#1a7f37", flush: "#116329",
  replicate: "#bf3989", commit: "#0a7b83", lost: "#cf222e", deliver: "#0550ae", "read-back": "#57606a", transaction: "#8250df",
  anomaly: "#cf222e",
};
const FAULT_COLORS = {
  kill: "#cf222e", "power-off": "#a40e26", "disk-loss": "#6e011a", shutdown: "#e16f24",
  pause: "#1b7c83", partition: "#8250df", isolate: "#6639ba", "drop-request": "#fb8f44",
  "drop-response": "#d18616", delay: "#bf8700", bandwidth: "#7d4e00", "slow-disk": "#0969da",
  "bit-rot": "#1d232a", promote: "#57606a", demote: "#424a53", "update-topic": "#bf3989",
};
const KIND_ORDER = { namesrv: 0, broker: 1, producer: 2, consumer: 3, auditor: 4 };
const WITNESS_COLORS = ["#cf222e", "#8250df", "#bf3989", "#9a6700", "#0969da", "#1a7f37"];

const state = { t0: 0, t1: Math.max(D.end_ms, 1), node: "", code: "", responses: true,
  selected: null, story: null };

// ---- small helpers ---------------------------------------------------------------------

function el(tag, attrs, parent) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function html(tag, text, parent, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}
function fmtMs(ms) {
  if (ms < 1000) return ms + "ms";
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + "s";
  const m = Math.floor(ms / 60000), s = ((ms % 60000) / 1000).toFixed(0);
  return m + "m" + s.padStart(2, "0") + "s";
}
function fmtBytes(b) {
  if (b < 1024) return b + " B";
  if (b < 1048576) return (b / 1024).toFixed(1) + " KiB";
  return (b / 1048576).toFixed(2) + " MiB";
}
function codeColor(i) { return "hsl(" + ((i * 137) % 360) + ",65%,42%)"; }
function title(node, text) { el("title", {}, node).textContent = text; }
function name(node) { return node === null || node === undefined ? "checker" : D.lanes[node].name; }

// ---- lanes -----------------------------------------------------------------------------

/// The faults as bands above the lanes: one per fault (a fault on several lanes is one band),
/// stacked in rows so that none overlaps another.
const bands = (function stackBands() {
  const seen = new Map();
  for (const f of D.faults) {
    const key = f.label + "@" + f.from;
    if (!seen.has(key)) seen.set(key, { kind: f.kind, label: f.label, from: f.from, to: f.to, nodes: [] });
    seen.get(key).nodes.push(f.node);
  }
  const list = [...seen.values()].sort((a, b) => a.from - b.from);
  const ends = [];
  for (const b of list) {
    const end = (b.to === null ? b.from : b.to) + D.end_ms / 200;
    let row = ends.findIndex((e) => e <= b.from);
    if (row < 0) { row = ends.length; ends.push(0); }
    ends[row] = end;
    b.row = row;
  }
  list.rows = ends.length;
  return list;
})();
const TOP = AXIS_H + bands.rows * STRIP_ROW + (bands.rows ? 6 : 0);

const order = D.lanes.map((lane, i) => i)
  .sort((a, b) => (KIND_ORDER[D.lanes[a].kind] - KIND_ORDER[D.lanes[b].kind]) ||
    D.lanes[a].group.localeCompare(D.lanes[b].group) || a - b);
const laneY = [];
const groups = [];
(function layout() {
  let y = TOP, last = null;
  for (const i of order) {
    const key = D.lanes[i].kind + "/" + D.lanes[i].group;
    if (key !== last) {
      y += GROUP_GAP;
      groups.push({ y: y - 4, label: D.lanes[i].group });
      last = key;
    }
    laneY[i] = y + LANE_H / 2;
    y += LANE_H;
  }
  state.height = y + 10;
})();

function width() { return document.getElementById("diagram-box").clientWidth || 1000; }
function x(t) { return LEFT + (t - state.t0) / (state.t1 - state.t0) * (width() - LEFT - RIGHT); }
function tAt(px) { return state.t0 + (px - LEFT) / (width() - LEFT - RIGHT) * (state.t1 - state.t0); }
function visible(a, b) { return b >= state.t0 && a <= state.t1; }

// ---- the header ------------------------------------------------------------------------

function renderHead() {
  const s = D.summary, head = document.getElementById("head");
  const h1 = html("h1", null, head);
  html("span", s.verdict, h1, "verdict " + s.verdict);
  h1.appendChild(document.createTextNode(s.scenario + (D.cell ? " [" + D.cell + "]" : "") +
    " — seed " + s.seed));
  if (s.problem) html("p", "problem: " + s.problem, head);
  renderLesson(head);
  const p = html("p", null, head);
  p.appendChild(document.createTextNode("replay: "));
  html("code", D.replay, p);
  p.appendChild(document.createTextNode("  simulated " + fmtMs(s.simulated_ms) + "  digest " +
    D.digest));
  renderExpectations(head, s.expectations);
  renderFigures(head, s);
  renderCauses(head);
}

/// For a loss: what a SEND_OK promises on the broker group the first of them was stored on.
function promiseOf(c) {
  const w = c.witness === null ? null : D.witnesses[c.witness];
  if (!c.kind.startsWith("lost") || !w || w.node === null) return "";
  const promise = D.promises[D.lanes[w.node].group];
  return promise ? "; " + promise : "";
}

/// What the checker found, in words: each kind and cause of anomaly with its count and the
/// first one's story; a click selects it.
function renderCauses(head) {
  if (!D.causes.length) return;
  const box = html("div", null, head, "causes");
  html("b", "What the checker found (each kind and cause, counted, with the first one's story):",
    box);
  const list = html("ul", null, box);
  for (const c of D.causes) {
    const li = html("li", null, list);
    html("b", c.kind + (c.cause ? " (" + c.cause + ")" : "") + " × " + c.count, li);
    const when = c.count === 1 ? " at " + fmtMs(c.first_ms) :
      ", all between " + fmtMs(c.first_ms) + " and " + fmtMs(c.last_ms) + " (" +
      fmtMs(c.last_ms - c.first_ms) + ")";
    li.appendChild(document.createTextNode(when + promiseOf(c) + " — the first: " + c.example));
    if (c.witness !== null) {
      li.classList.add("clickable");
      li.addEventListener("click", () => selectWitness(c.witness));
    }
  }
}

/// The scenario's question and what it teaches: what the figures below are to be read against.
function renderLesson(head) {
  for (const asked of D.asked) html("p", "Users ask: “" + asked + "”", head, "asked");
  if (D.question) html("p", D.question, head, "question");
  if (!D.teaches) return;
  const lesson = html("details", null, head, "lesson");
  lesson.open = true;
  html("summary", "What this scenario teaches", lesson);
  for (const para of D.teaches.split(/\n\s*\n/)) html("p", para.replace(/\s*\n\s*/g, " "), lesson);
}

/// The expectations, folded to one line when all pass (the diagram then fits the first view).
function renderExpectations(head, expectations) {
  if (!expectations.length) return;
  const failing = expectations.filter((e) => e.verdict !== "pass").length;
  const box = html("details", null, head, "expectations");
  box.open = failing > 0;
  html("summary", expectations.length + " expectations: " +
    (failing ? failing + " not met" : "all met"), box);
  const table = html("table", null, box);
  const tr = html("tr", null, table);
  for (const h of ["", "expectation", "expected", "observed"]) html("th", h, tr);
  for (const e of expectations) {
    const row = html("tr", null, table);
    html("td", null, row).appendChild(html("span", e.verdict, null, "verdict " + e.verdict));
    html("td", e.name, row); html("td", e.condition, row); html("td", e.observed, row);
  }
}

function renderFigures(head, s) {
  const f = html("p", null, head, "figures");
  if (s.sends) {
    const c = s.sends.counts;
    for (const [k, v] of [["messages", c.messages], ["acked", c.acked], ["lost", c.lost],
      ["duplicated", c.duplicated], ["send p50", fmtMs(s.sends.latency_p50_ms)],
      ["p99", fmtMs(s.sends.latency_p99_ms)]]) {
      if (v !== undefined) html("span", k + " " + (v === null ? "unknown" : v), f);
    }
  }
  // Anomaly totals, but for the kinds the send counts above already gave.
  const given = s.sends ? ["lost", "duplicated"] : [];
  for (const [kind, n] of s.anomaly_totals) {
    if (!given.includes(kind)) html("span", kind + " " + n, f);
  }
  const a = D.arrows;
  html("span", "packets " + a.total + " (" + a.dropped + " dropped; " + a.rows.length +
    " drawn)", f);
  html("span", "messages " + D.stories_total + " (" + Object.keys(D.stories).length +
    " stories embedded)", f);
}

// ---- the space-time diagram ------------------------------------------------------------

function renderDiagram() {
  const svg = document.getElementById("diagram");
  svg.textContent = "";
  svg.setAttribute("height", state.height);
  svg.setAttribute("viewBox", "0 0 " + width() + " " + state.height);
  renderAxis(svg, AXIS_H - 6, state.height);
  renderLanes(svg);
  renderLeaders(svg);
  renderFaults(svg);
  renderFaultStrip(svg);
  renderArrows(svg);
  renderLeaderLabels(svg);
  renderRestarts(svg);
  renderPath(svg);
  renderWitnesses(svg);
  const thinned = state.arrowsDrawn < state.arrowsVisible ?
    "  (" + state.arrowsDrawn + " of " + state.arrowsVisible + " arrows: zoom in for all)" : "";
  document.getElementById("window").textContent = fmtMs(Math.round(state.t0)) + " – " +
    fmtMs(Math.round(state.t1)) + thinned;
}

function ticks() {
  const span = state.t1 - state.t0, raw = span / 10;
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000,
    60000, 120000, 300000, 600000, 1800000, 3600000];
  const step = steps.find((s) => s >= raw) || 3600000;
  const out = [];
  for (let t = Math.ceil(state.t0 / step) * step; t <= state.t1; t += step) out.push(t);
  return out;
}

function renderAxis(svg, y, bottom) {
  const g = el("g", { class: "axis" }, svg);
  for (const t of ticks()) {
    el("line", { x1: x(t), x2: x(t), y1: y + 4, y2: bottom }, g);
    el("text", { x: x(t) + 2, y: y }, g).textContent = fmtMs(t);
  }
}

function renderLanes(svg) {
  const g = el("g", { id: "lanes" }, svg);
  for (const gr of groups) {
    el("text", { x: 4, y: gr.y, class: "group-label" }, g).textContent = gr.label;
  }
  for (const i of order) {
    const lane = el("g", { class: "lane", "data-node": D.lanes[i].name }, g);
    el("line", { x1: LEFT, x2: width() - RIGHT, y1: laneY[i], y2: laneY[i], class: "lane-line" },
      lane);
    el("text", { x: 10, y: laneY[i], class: "lane-label" }, lane).textContent = D.lanes[i].name;
  }
}

/// A time in seconds for the leaders' tooltips: "20.415 s", "65 s".
function fmtSeconds(ms) { return (ms / 1000).toFixed(3).replace(/\.?0+$/, "") + " s"; }

/// The visible leaderships of every DLedger group: `{ group, t, to, x0, x1 }`.
function leaderSpans() {
  const out = [];
  for (const group of D.leader_terms) {
    for (const t of group.terms) {
      const to = t.to_ms === null ? D.end_ms : t.to_ms;
      if (!visible(t.from_ms, to)) continue;
      out.push({ group: group, t: t, to: to, x0: Math.max(x(t.from_ms), LEFT),
        x1: Math.min(x(to), width() - RIGHT) });
    }
  }
  return out;
}

/// Each DLedger group's leaders, under the arrows: a band on the leader's lane for each term
/// it leads, and a thin mark on every member's lane where a term begins.
function renderLeaders(svg) {
  const g = el("g", { id: "leaders" }, svg);
  for (const { group, t, to, x0, x1 } of leaderSpans()) {
    const band = el("g", { class: "leader", "data-term": t.term, "data-member": t.member }, g);
    el("rect", { x: x0, y: laneY[t.lane] - LANE_H / 2 + 3, width: Math.max(x1 - x0, 2),
      height: LANE_H - 6, rx: 3 }, band);
    title(band, t.member + " leads " + group.group + " in term " + t.term + " from " +
      fmtSeconds(t.from_ms) + " to " + fmtSeconds(to) + (t.to_ms === null ? " (the end)" : ""));
    if (t.from_ms < state.t0) continue;
    for (const lane of group.lanes) {
      const mark = el("line", { x1: x0, x2: x0, class: "term-mark",
        y1: laneY[lane] - LANE_H / 2 + 1, y2: laneY[lane] + LANE_H / 2 - 1 }, g);
      title(mark, "term " + t.term + " of " + group.group + " begins at " +
        fmtSeconds(t.from_ms) + ": " + t.member + " leads");
    }
  }
}

/// The bands' labels, "leader t<term>", above the arrows.
function renderLeaderLabels(svg) {
  const g = el("g", { id: "leader-labels" }, svg);
  for (const { t, x0, x1 } of leaderSpans()) {
    if (x1 - x0 < 50) continue;
    el("text", { x: x0 + 4, y: laneY[t.lane] - LANE_H / 2 + 9, class: "leader-label" }, g)
      .textContent = "leader t" + t.term;
  }
}

function renderFaults(svg) {
  const g = el("g", { id: "faults" }, svg);
  for (const f of D.faults) {
    const to = f.to === null ? f.from : f.to;
    if (!visible(f.from, to)) continue;
    const color = FAULT_COLORS[f.kind] || "#57606a";
    const x0 = Math.max(x(f.from), LEFT), x1 = Math.min(x(to), width() - RIGHT);
    const point = f.to === null || x1 - x0 < 2;
    const r = el("rect", { x: x0 - (point ? 1.5 : 0), y: laneY[f.node] - LANE_H / 2 + 1,
      width: Math.max(x1 - x0, 3), height: LANE_H - 2, fill: color,
      class: "fault" + (point ? " point" : ""), "data-kind": f.kind }, g);
    title(r, f.label + " on " + name(f.node) + ": " + fmtMs(f.from) +
      (f.to === null ? "" : " – " + fmtMs(f.to)));
  }
}

/// The fault bands above the lanes, labelled; a click tells the fault.
function renderFaultStrip(svg) {
  const g = el("g", { id: "fault-strip" }, svg);
  for (const b of bands) {
    const to = b.to === null ? b.from : b.to;
    if (!visible(b.from, to)) continue;
    const x0 = Math.max(x(b.from), LEFT), x1 = Math.min(x(to), width() - RIGHT);
    const y = AXIS_H + b.row * STRIP_ROW;
    const w = Math.max(x1 - x0, 4);
    const r = el("rect", { x: x0 - (x1 - x0 < 4 ? 2 : 0), y: y, width: w, height: STRIP_ROW - 2,
      rx: 2, fill: FAULT_COLORS[b.kind] || "#57606a", class: "fault-band", "data-kind": b.kind }, g);
    const text = b.label + " on " + b.nodes.map(name).join(", ") + ": " + fmtMs(b.from) +
      (b.to === null ? "" : " – " + fmtMs(b.to));
    title(r, text);
    r.addEventListener("click", () => showNote("Fault", text));
    if (w > 60) {
      const t = el("text", { x: x0 + 3, y: y + STRIP_ROW - 4, class: "band-label" }, g);
      // A stop's label is its kind alone: name the node it hit.
      const label = b.label === b.kind ? b.kind + " " + b.nodes.map(name).join(", ") : b.label;
      t.textContent = label.length * 6 > w ? b.kind : label;
      t.addEventListener("click", () => showNote("Fault", text));
    }
  }
}

/// A note in the story panel: a fault or a packet, clicked.
function showNote(heading, text) {
  state.selected = null;
  state.story = null;
  document.getElementById("story-title").textContent = heading;
  const box = document.getElementById("story");
  box.textContent = "";
  html("p", text, box);
  renderAll();
}

function arrowRows() {
  const node = state.node === "" ? -1 : Number(state.node);
  const code = state.code === "" ? -1 : Number(state.code);
  const rows = D.arrows.rows.filter((r) => {
    const end = r[1] < 0 ? r[0] : r[1];
    if (!visible(r[0], end)) return false;
    if (node >= 0 && r[2] !== node && r[3] !== node) return false;
    if (code >= 0 && r[4] !== code) return false;
    return state.responses || r[5] === 0;
  });
  state.arrowsVisible = rows.length;
  const budget = Math.min(MAX_DRAW, Math.round((width() - LEFT - RIGHT) * ARROWS_PER_PX));
  if (rows.length <= budget) return rows;
  // An even share of each request code (a rare code keeps a few), every dropped packet.
  const byCode = new Map();
  for (const r of rows) {
    if (!byCode.has(r[4])) byCode.set(r[4], []);
    byCode.get(r[4]).push(r);
  }
  const kept = [];
  for (const group of byCode.values()) {
    const share = Math.max(Math.min(group.length, 20), Math.floor(budget * group.length / rows.length));
    const stride = Math.ceil(group.length / share);
    kept.push(...group.filter((r, i) => r[1] < 0 || i % stride === 0));
  }
  return kept.sort((a, b) => a[0] - b[0]);
}

function renderArrows(svg) {
  const g = el("g", { id: "arrows" }, svg);
  const dim = state.story !== null;
  const rows = arrowRows();
  state.arrowsDrawn = rows.length;
  for (const r of rows) {
    const [sent, arrives, from, to, code, response] = r;
    const color = codeColor(code);
    const x0 = x(sent), y0 = laneY[from], y1 = laneY[to];
    const cls = "arrow" + (dim ? " dim" : "") + (arrives < 0 ? " dropped" : "");
    if (arrives < 0) {
      const xm = x0 + 6, ym = y0 + (y1 - y0) * 0.4;
      const line = el("line", { x1: x0, y1: y0, x2: xm, y2: ym, stroke: color, class: cls,
        "stroke-dasharray": "2,2" }, g);
      el("path", { d: "M" + (xm - 3) + "," + (ym - 3) + "l6,6m0,-6l-6,6", class: "drop-mark" }, g);
      const text = D.arrows.codes[code] + (response ? " response" : "") + " " + name(from) +
        " → " + name(to) + " dropped at " + fmtMs(sent);
      title(line, text);
      line.addEventListener("click", () => showNote("Packet", text));
      continue;
    }
    const line = el("line", { x1: x0, y1: y0, x2: x(arrives), y2: y1, stroke: color,
      class: cls, "stroke-dasharray": response ? "3,2" : "" }, g);
    const text = D.arrows.codes[code] + (response ? " response" : "") + " " + name(from) +
      " → " + name(to) + " " + fmtMs(sent) + " → " + fmtMs(arrives) + " (" +
      fmtMs(arrives - sent) + " in flight)";
    title(line, text);
    line.addEventListener("click", () => showNote("Packet", text));
  }
}

function renderRestarts(svg) {
  const g = el("g", { id: "restarts" }, svg);
  for (const [node, at] of D.restarts) {
    if (!visible(at, at)) continue;
    const xr = x(at), y = laneY[node];
    const p = el("path", { d: "M" + xr + "," + (y - 6) + "l6,6l-6,6z", class: "restart" }, g);
    title(p, name(node) + " starts again at " + fmtMs(at));
  }
}

function witnessY(w, i) {
  return w.node === null ? TOP + 2 + (i % 3) * 4 : laneY[w.node] - LANE_H / 2 + 3;
}

function renderWitnesses(svg) {
  const g = el("g", { id: "witnesses" }, svg);
  const kinds = [...new Set(D.witnesses.map((w) => w.kind))];
  D.witnesses.forEach((w, i) => {
    const xw = Math.min(Math.max(x(w.at), LEFT), width() - RIGHT), y = witnessY(w, i);
    const color = WITNESS_COLORS[kinds.indexOf(w.kind) % WITNESS_COLORS.length];
    const m = el("path", { d: "M" + xw + "," + (y + 8) + "l-5,-9h10z", fill: color,
      class: "witness" + (state.selected === i ? " selected" : ""), "data-index": i,
      "data-kind": w.kind, "data-message": w.message || "" }, g);
    title(m, w.kind + (w.message ? " " + w.message : "") + " at " + fmtMs(w.at) + ": " +
      w.explanation);
    m.addEventListener("click", (e) => { e.stopPropagation(); selectWitness(i); });
  });
}

function renderPath(svg) {
  if (state.story === null) return;
  const g = el("g", { id: "path" }, svg);
  const steps = state.story.filter((s) => s.node !== null);
  if (steps.length > 1) {
    el("polyline", { class: "path", points: steps.map((s) => x(s.at_ms) + "," +
      laneY[s.node]).join(" ") }, g);
  }
  for (const s of steps) {
    const c = el("circle", { cx: x(s.at_ms), cy: laneY[s.node], r: 5,
      fill: STEP_COLORS[s.kind] || "#000", class: "path-step", "data-kind": s.kind }, g);
    title(c, fmtMs(s.at_ms) + " " + s.kind + ": " + s.text);
  }
}

// ---- selection, stories ----------------------------------------------------------------

/// Selects witness `i` (0-based here; 1-based in the list, the address and `sim explain`).
function selectWitness(i) {
  state.selected = i;
  const w = D.witnesses[i];
  for (const li of document.querySelectorAll("#witness-list li")) {
    const selected = Number(li.dataset.index) === i;
    li.classList.toggle("selected", selected);
    if (selected && document.activeElement !== li && li.parentNode.contains(document.activeElement)) {
      li.focus();
    }
  }
  setHash("witness=" + (i + 1));
  showStory(w.message, w);
}

/// Keeps the selection in the address, so that a link opens the page with it.
function setHash(selection) {
  if (history.replaceState) history.replaceState(null, "", "#" + selection);
}

function showStory(id, witness) {
  const box = document.getElementById("story");
  box.textContent = "";
  document.getElementById("story-title").textContent = "Life story" + (id ? " of " + id : "");
  if (witness) {
    html("p", witness.kind + (witness.cause ? " (" + witness.cause + ")" : "") + " at " +
      fmtMs(witness.at) + ": " + witness.explanation, box);
  }
  const steps = id ? D.stories[id] : undefined;
  state.story = steps || null;
  if (!id) {
    renderAll();
    return;
  }
  if (!steps) {
    html("p", "No story of " + id + " in this report (not a message of the run, or " +
      "left out to keep the page small): " + "sim explain " + D.replay.replace(/^sim run /, "") +
      " --message " + id, box, "hint");
    renderAll();
    return;
  }
  const ol = html("ol", null, box);
  for (const s of steps) {
    const li = html("li", null, ol);
    li.style.borderLeftColor = STEP_COLORS[s.kind] || "#ccc";
    html("span", fmtMs(s.at_ms), li, "t");
    html("b", s.kind + " ", li);
    li.appendChild(document.createTextNode(s.text));
  }
  frame(steps, false);
  renderAll();
}

/// Zooms out to show the whole story when part of it is outside the window (or, `focus`,
/// zooms in on it).
function frame(steps, focus) {
  const times = steps.map((s) => s.at_ms);
  const a = Math.min(...times), b = Math.max(...times);
  if (!focus && a >= state.t0 && b <= state.t1) return;
  const pad = Math.max((b - a) * 0.1, 200);
  setWindow(a - pad, b + pad);
}

function renderWitnessList() {
  const ol = document.getElementById("witness-list");
  if (!D.witnesses.length) html("p", "The checker reported no anomaly.", ol, "hint");
  if (D.witnesses_total > D.witnesses.length) {
    html("p", "The first " + D.witnesses.length + " of " + D.witnesses_total + " anomalies.",
      ol, "hint");
  }
  D.witnesses.forEach((w, i) => {
    const li = html("li", w.kind + (w.message ? " " + w.message : "") + " at " + fmtMs(w.at),
      ol);
    li.dataset.index = i;
    li.tabIndex = 0;
    li.addEventListener("click", () => selectWitness(i));
    // Keyboard: Enter or Space selects; the arrows move to the next or previous witness.
    li.addEventListener("keydown", (e) => {
      const moves = { ArrowDown: 1, ArrowUp: -1 };
      if (e.key === "Enter" || e.key === " ") selectWitness(i);
      else if (moves[e.key] !== undefined && D.witnesses[i + moves[e.key]]) {
        selectWitness(i + moves[e.key]);
        ol.querySelectorAll("li")[i + moves[e.key]].focus();
      } else return;
      e.preventDefault();
    });
  });
}

// ---- plots -----------------------------------------------------------------------------

const PLOT_H = 134, PLOT_LEFT = 64, PLOT_AXIS = 14;
const LINE_COLORS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#9a6700", "#bf3989"];

function plotBox(titleText, legend) {
  const box = html("div", null, document.getElementById("plots"), "plot");
  html("h4", titleText, box);
  const lg = html("div", null, box, "legend");
  legend.forEach(([label, color]) => {
    const s = html("span", null, lg);
    const i = html("i", null, s);
    i.style.background = color;
    s.appendChild(document.createTextNode(label));
  });
  const svg = el("svg", { height: PLOT_H }, box);
  return svg;
}

/// A time's x in a plot whose area starts at `left`, held inside the area.
function plotX(svg, t, left) {
  const l = left === undefined ? PLOT_LEFT : left, w = svg.clientWidth || 540;
  const px = l + (t - state.t0) / (state.t1 - state.t0) * (w - l - 8);
  return Math.min(Math.max(px, l), w - 8);
}

/// The spans with no SEND_OK while sends waited, as bars along a plot's time axis.
function unavailability(svg) {
  const bottom = PLOT_H - PLOT_AXIS;
  for (const [from, to] of D.plots.unavailable) {
    if (!visible(from, to)) continue;
    const x0 = plotX(svg, from);
    const r = el("rect", { x: x0, y: bottom - 12, height: 4, class: "unavailable",
      width: Math.max(plotX(svg, to) - x0, 2) }, svg);
    title(r, "no SEND_OK while sends waited: " + fmtMs(from) + " – " + fmtMs(to) + " (" +
      fmtMs(to - from) + ")");
  }
}

/// Time ticks along a plot's bottom, on the diagram's window.
function timeAxis(svg, bottom) {
  const w = svg.clientWidth || 540;
  el("line", { x1: PLOT_LEFT, x2: w - 8, y1: bottom - 8, y2: bottom - 8, class: "plot-axis" }, svg);
  for (let i = 0; i <= 4; i++) {
    const t = state.t0 + (state.t1 - state.t0) * i / 4, px = plotX(svg, t);
    el("line", { x1: px, x2: px, y1: bottom - 8, y2: bottom - 4, class: "plot-axis" }, svg);
    const label = el("text", { x: px, y: bottom + 6, "font-size": 9, class: "plot-tick",
      "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" }, svg);
    label.textContent = fmtMs(Math.round(t));
  }
}

function lineChart(titleText, allSeries, format, faultNodes) {
  const series = allSeries.filter((s) => s.points.length);
  const svg = plotBox(titleText, series.map((s, i) => [s.label, LINE_COLORS[i % 6]]));
  const w = svg.clientWidth || 540;
  svg.setAttribute("viewBox", "0 0 " + w + " " + PLOT_H);
  const inWindow = series.map((s) => s.points.filter((p, i, all) =>
    visible(p[0], (all[i + 1] || p)[0])));
  const values = inWindow.flat().map((p) => p[1]);
  const max = Math.max(1, ...values), min = Math.min(max - 1, ...values);
  const bottom = PLOT_H - PLOT_AXIS;
  const y = (v) => bottom - 14 - (v - min) / (max - min) * (bottom - 24);
  // Faults on the nodes the plot is about (all of them with `null`), shaded by kind.
  for (const b of bands) {
    const hits = faultNodes === null || b.nodes.some((n) => faultNodes.includes(n));
    if (!hits || b.to === null || !visible(b.from, b.to)) continue;
    const x0 = plotX(svg, b.from);
    const r = el("rect", { x: x0, y: 4, height: bottom - 18, class: "plot-fault", opacity: 0.18,
      width: Math.max(plotX(svg, b.to) - x0, 2), fill: FAULT_COLORS[b.kind] || "#888" }, svg);
    title(r, b.label + ": " + fmtMs(b.from) + " – " + fmtMs(b.to));
  }
  el("text", { x: 2, y: 12, class: "axis", "font-size": 10 }, svg).textContent = format(max);
  el("text", { x: 2, y: bottom - 14, "font-size": 10 }, svg).textContent = format(min);
  timeAxis(svg, bottom);
  inWindow.forEach((points, i) => {
    if (!points.length) return;
    const d = points.map((p, j) => (j ? "H" + plotX(svg, p[0]) + "V" : "M" + plotX(svg, p[0]) +
      ",") + y(p[1])).join("");
    el("path", { d: d, stroke: LINE_COLORS[i % 6], fill: "none", "stroke-width": 1.4 }, svg);
  });
  return svg;
}

function renderPlots() {
  const box = document.getElementById("plots");
  box.textContent = "";
  const P = D.plots;
  for (const p of P.positions) {
    lineChart(name(p.node) + " commitlog: a power loss can lose what is acked above " +
      "flushed and replicated", [
      { label: "acked", points: p.acked }, { label: "flushed", points: p.flushed },
      { label: "replicated", points: p.replicated }, { label: "written", points: p.written },
    ], fmtBytes, [p.node]);
  }
  if (P.replication_lag.length) lineChart("replication lag (bytes)", P.replication_lag, fmtBytes, []);
  if (P.latency.length && P.latency[0].points.length) {
    const svg = lineChart("send latency by send time (acknowledged p50, p99; failed or " +
      "unknown: the longest wait; a black bar: no SEND_OK while sends waited)", P.latency,
      fmtMs, null);
    unavailability(svg);
  }
  if (P.throughput.length && P.throughput.some((s) => s.points.length)) {
    lineChart("throughput: acknowledged sends, consumed deliveries and SYSTEM_BUSY answers per second",
      P.throughput, String, null);
  }
  if (P.consumer_lag.length) {
    lineChart("consumer lag: messages the group should have (acknowledged, or committed) and " +
      "has not consumed", P.consumer_lag, String, null);
  }
  if (P.ownership.length) ownershipChart(P.ownership);
}

function ownershipChart(rows) {
  const consumers = [...new Set(rows.flatMap((r) => r.spans.map((s) => s[2])))];
  const svg = plotBox("queue ownership (a colour change is a handover)",
    consumers.map((c, i) => [name(c), LINE_COLORS[i % 6]]));
  const h = 14 * rows.length + 6;
  svg.setAttribute("height", h);
  const w = svg.clientWidth || 540;
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  const left = 170;
  rows.forEach((row, i) => {
    el("text", { x: 2, y: 14 * i + 13, "font-size": 9 }, svg).textContent = row.queue;
    for (const [from, to, node] of row.spans) {
      if (!visible(from, to)) continue;
      const x0 = plotX(svg, from, left);
      const r = el("rect", { x: x0, y: 14 * i + 4, height: 11, class: "owner",
        width: Math.max(plotX(svg, to, left) - x0, 1),
        fill: LINE_COLORS[consumers.indexOf(node) % 6] }, svg);
      title(r, row.queue + ": " + name(node) + " " + fmtMs(from) + " – " + fmtMs(to));
    }
  });
}

// ---- navigation ------------------------------------------------------------------------

function setWindow(a, b) {
  const min = 10, span = Math.max(b - a, min);
  state.t0 = Math.max(0, a);
  state.t1 = Math.min(Math.max(D.end_ms, 1), state.t0 + span);
  if (state.t1 - state.t0 < min) state.t0 = Math.max(0, state.t1 - min);
}

function zoom(factor, center) {
  const c = center === undefined ? (state.t0 + state.t1) / 2 : center;
  setWindow(c - (c - state.t0) * factor, c + (state.t1 - c) * factor);
  renderAll();
}

function renderAll() {
  renderDiagram();
  renderOps();
  renderPlots();
}

// ---- the operation timeline ------------------------------------------------------------

const OP_COLORS = { ok: "#1a7f37", info: "#bf8700", fail: "#cf222e", consumed: "#0969da",
  retried: "#8250df" };
const OP_ROW = 12;
/// The clients that have operations, in the diagram's lane order.
const opLanes = order.filter((i) => D.ops.rows.some((r) => r[0] === i));

/// Each client a row on the diagram's time axis, each operation a bar: a send from invoke to
/// answer (ok, info: unknown, fail), a delivery while the listener held it (consumed, or
/// handed back to be retried). A click on a bar tells its message's story.
function renderOps() {
  const svg = document.getElementById("ops");
  svg.textContent = "";
  const heading = document.getElementById("ops-title");
  heading.textContent = "";
  if (!opLanes.length) return;
  heading.appendChild(document.createTextNode("operations (click one for its message's story): "));
  for (const [outcome, color] of Object.entries(OP_COLORS)) {
    const chip = html("span", null, heading, "op-key");
    html("i", null, chip).style.background = color;
    chip.appendChild(document.createTextNode(outcome));
  }
  if (D.ops.total > D.ops.rows.length) {
    heading.appendChild(document.createTextNode(" (" + D.ops.rows.length + " of " + D.ops.total +
      " drawn)"));
  }
  const height = opLanes.length * OP_ROW + 8;
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", "0 0 " + width() + " " + height);
  const rowY = new Map(opLanes.map((lane, i) => [lane, 4 + i * OP_ROW]));
  opLanes.forEach((lane) => {
    el("text", { x: 10, y: rowY.get(lane) + 9, class: "lane-label" }, svg).textContent = name(lane);
  });
  for (const [node, from, to, outcome, id] of D.ops.rows) {
    if (!visible(from, to)) continue;
    const x0 = Math.max(x(from), LEFT), x1 = Math.min(x(to), width() - RIGHT);
    const bar = el("rect", { x: x0, y: rowY.get(node), width: Math.max(x1 - x0, 1.5),
      height: OP_ROW - 3, fill: OP_COLORS[outcome], class: "op " + outcome }, svg);
    title(bar, id + " " + outcome + " " + fmtMs(from) + " – " + fmtMs(to));
    bar.addEventListener("click", () => { state.selected = null; showStory(id, null); });
  }
}

function wire() {
  const svg = document.getElementById("diagram");
  svg.addEventListener("wheel", (e) => {
    e.preventDefault();
    zoom(e.deltaY < 0 ? 0.7 : 1 / 0.7, tAt(e.offsetX));
  }, { passive: false });
  let drag = null;
  svg.addEventListener("mousedown", (e) => { drag = { px: e.clientX, t0: state.t0, t1: state.t1 }; });
  window.addEventListener("mouseup", () => {
    // The plots follow a pan once it ends; the diagram follows it as it goes.
    if (drag && drag.moved) renderPlots();
    drag = null;
  });
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const dt = (e.clientX - drag.px) / (width() - LEFT - RIGHT) * (drag.t1 - drag.t0);
    drag.moved = true;
    setWindow(drag.t0 - dt, drag.t1 - dt);
    renderDiagram();
  });
  document.getElementById("zoom-in").onclick = () => zoom(0.5);
  document.getElementById("zoom-out").onclick = () => zoom(2);
  document.getElementById("zoom-fit").onclick = () => { setWindow(0, D.end_ms); renderAll(); };
  wireFilters();
  window.addEventListener("resize", renderAll);
}

function wireFilters() {
  const nodeSel = document.getElementById("filter-node");
  for (const i of order) {
    const o = html("option", D.lanes[i].name, nodeSel);
    o.value = i;
  }
  const codeSel = document.getElementById("filter-code");
  D.arrows.codes.forEach((c, i) => { html("option", c, codeSel).value = i; });
  nodeSel.onchange = () => { state.node = nodeSel.value; renderDiagram(); };
  codeSel.onchange = () => { state.code = codeSel.value; renderLegend(); renderDiagram(); };
  const responses = document.getElementById("show-responses");
  responses.onchange = () => { state.responses = responses.checked; renderDiagram(); };
  const search = document.getElementById("search");
  const go = () => {
    state.selected = null;
    const id = search.value.trim() || null;
    if (id) setHash("message=" + encodeURIComponent(id));
    showStory(id, null);
  };
  document.getElementById("search-go").onclick = go;
  search.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
}

/// The request codes' colours; a click shows only that code's arrows (again: all).
function renderLegend() {
  const box = document.getElementById("legend");
  box.textContent = "";
  html("b", "arrows by request code (responses dashed, × dropped): ", box);
  D.arrows.codes.forEach((code, i) => {
    const s = html("span", null, box, state.code === String(i) ? "on" : "");
    html("i", null, s).style.background = codeColor(i);
    s.appendChild(document.createTextNode(code));
    s.addEventListener("click", () => {
      state.code = state.code === String(i) ? "" : String(i);
      document.getElementById("filter-code").value = state.code;
      renderLegend();
      renderDiagram();
    });
  });
  const kinds = [...new Set(bands.map((b) => b.kind))];
  if (kinds.length) {
    const faults = html("div", null, box, "fault-legend");
    html("b", "faults (bands above the lanes, shading on the nodes they hit; click one): ", faults);
    for (const kind of kinds) {
      const s = html("span", null, faults);
      html("i", null, s).style.background = FAULT_COLORS[kind] || "#57606a";
      s.appendChild(document.createTextNode(kind));
    }
  }
  if (D.leader_terms.some((g) => g.terms.length)) {
    const key = html("span", null, box, "leader-key");
    html("i", null, key);
    key.appendChild(document.createTextNode("DLedger leader (\"leader t<term>\" on its lane; " +
      "a tick on every member's lane where a term begins)"));
  }
}

/// `#witness=K` (1-based, as the list and `sim explain --anomaly K` number them) or
/// `#message=ID` in the address selects it at load; `&focus=MS` then zooms to the story with
/// MS of margin on each side.
function fromHash() {
  const m = /^#(witness|message)=([^&]+)(&focus=(\d+))?$/.exec(location.hash);
  if (!m) return;
  const focus = m[3] || "";
  if (m[1] === "witness" && D.witnesses[Number(m[2]) - 1]) {
    selectWitness(Number(m[2]) - 1);
    if (focus) setHash("witness=" + m[2] + focus);
  }
  if (m[1] === "message") {
    document.getElementById("search").value = decodeURIComponent(m[2]);
    showStory(decodeURIComponent(m[2]), null);
  }
  if (m[4] !== undefined && state.story) {
    const times = state.story.map((s) => s.at_ms), pad = Number(m[4]);
    setWindow(Math.min(...times) - pad, Math.max(...times) + pad);
    renderAll();
  }
}

function main() {
  renderHead();
  renderWitnessList();
  html("details", null, document.getElementById("text-report"));
  const details = document.querySelector("#text-report details");
  html("summary", "the text report", details);
  html("pre", D.text, details);
  wire();
  renderLegend();
  renderAll();
  fromHash();
  document.body.setAttribute("data-ready", "1");
}

try {
  main();
} catch (e) {
  reportError(e && e.stack ? e.stack : e);
}
