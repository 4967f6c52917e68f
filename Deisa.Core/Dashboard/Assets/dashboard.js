// The deisa dashboard's page: every second, reads the run's tables (Arrow IPC streams, see
// DashboardTables.cs) and shows them. Arrow's reader is the vendored arrow.es2015.min.js.
"use strict";

const REFRESH_MS = 1000;
let refreshes = 0;

// A table's rows as plain objects; 64-bit integers become Numbers (exact below 2^53).
function rows(table) {
  const out = [];
  const names = table.schema.fields.map(f => f.name);
  for (let i = 0; i < table.numRows; i++) {
    const row = {};
    for (const name of names) {
      const v = table.getChild(name).get(i);
      row[name] = typeof v === "bigint" ? Number(v) : v;
    }
    out.push(row);
  }
  return out;
}

async function fetchTable(name, array) {
  const url = "/api/" + name + (array === undefined ? "" : "?array=" + encodeURIComponent(array));
  const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
  if (!response.ok) throw new Error(name + ": " + response.status + " " + (await response.text()));
  return Arrow.tableFromIPC(new Uint8Array(await response.arrayBuffer()));
}

function text(id, value) {
  const e = document.getElementById(id);
  if (e) e.textContent = value === null || value === undefined ? "–" : String(value);
}

function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + " " + units[i];
}

function number(v, digits) {
  return v === null || v === undefined ? "–" : Number(v).toFixed(digits);
}

function fillTable(id, list, cells) {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren(...list.map(item => {
    const tr = document.createElement("tr");
    for (const c of cells(item)) {
      const td = document.createElement("td");
      td.textContent = c === null || c === undefined ? "–" : String(c);
      tr.appendChild(td);
    }
    return tr;
  }));
}

function showRun(run) {
  text("session", run.session);
  const state = document.getElementById("state");
  state.textContent = run.state;
  state.className = "state" + (run.state.startsWith("ended") ? (run.state === "ended: the analytics has finished" ? " ended" : " failed") : "");
  text("uptime", run.uptime_s.toFixed(0));
  text("ranks-connected", run.ranks_connected);
  text("world-size", run.world_size);
  text("ranks-registered", run.ranks_registered);
  text("ranks-closed", run.ranks_closed);
  text("ranks-lost", run.ranks_lost);
  text("nodes-count", run.nodes);
  text("arrays-count", run.arrays);
  text("timesteps-processed", run.timesteps_processed);
  text("last-processed", run.last_processed);
  text("newest-received", run.newest_received);
  text("pending", run.pending_timesteps);
  text("ahead", run.ahead === null ? "–" : Math.max(0, run.ahead));
  text("max-ahead", run.max_simulation_ahead);
  document.getElementById("ahead-bar").style.width =
    (run.ahead === null ? 0 : Math.min(100, 100 * Math.max(0, run.ahead) / Math.max(1, run.max_simulation_ahead))) + "%";
  text("pool", bytes(run.pool_in_use) + " / " + bytes(run.pool_budget));
  document.getElementById("pool-bar").style.width = (run.pool_budget ? Math.min(100, 100 * run.pool_in_use / run.pool_budget) : 0) + "%";
  text("pool-blocks", run.pool_blocks);
  text("waiting-sends", run.waiting_sends);
  text("callback-seconds", run.callback_seconds.toFixed(3));
  text("errors-count", run.errors);
}

function showRanks(list) {
  const box = document.getElementById("ranks");
  box.replaceChildren(...list.map(r => {
    const d = document.createElement("div");
    d.className = "rank " + r.state.replace(" ", "-");
    d.dataset.state = r.state;
    d.title = "rank " + r.rank + ": " + r.state + (r.node ? " (node " + r.node + ")" : "");
    d.textContent = r.rank;
    return d;
  }));
}

// A colour map from dark blue through green to yellow (as viridis), t in [0, 1].
const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
function colour(t) {
  t = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(t)), f = t - i, a = STOPS[i], b = STOPS[i + 1];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

function drawHeatmap(canvas, values, rowsN, cols) {
  canvas.width = cols;
  canvas.height = rowsN;
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; } }
  const span = hi > lo ? hi - lo : 1;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(cols, rowsN);
  for (let i = 0; i < values.length; i++) {
    const c = Number.isFinite(values[i]) ? colour((values[i] - lo) / span) : [255, 0, 255];
    image.data[4 * i] = c[0]; image.data[4 * i + 1] = c[1]; image.data[4 * i + 2] = c[2]; image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  return [lo, hi];
}

function drawColorbar(canvas) {
  const ctx = canvas.getContext("2d");
  for (let x = 0; x < canvas.width; x++) {
    const c = colour(x / (canvas.width - 1));
    ctx.fillStyle = "rgb(" + c.map(Math.round).join(",") + ")";
    ctx.fillRect(x, 0, 1, canvas.height);
  }
}

// Lines over x; series: [{ys, colour}].
function drawLine(canvas, xs, series, label) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, left = 56, bottom = 18, top = 24;
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#5a6577";
  if (xs.length === 0) { ctx.fillText("no data yet", left, h / 2); return; }
  const all = series.flatMap(s => s.ys).filter(Number.isFinite);
  let lo = Math.min(...all), hi = Math.max(...all);
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  const x0 = xs[0], x1 = xs[xs.length - 1] === x0 ? x0 + 1 : xs[xs.length - 1];
  const X = x => left + (w - left - 8) * (x - x0) / (x1 - x0);
  const Y = y => top + (h - top - bottom) * (1 - (y - lo) / (hi - lo));
  for (const s of series) {
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    xs.forEach((x, i) => (i ? ctx.lineTo(X(x), Y(s.ys[i])) : ctx.moveTo(X(x), Y(s.ys[i]))));
    ctx.stroke();
  }
  ctx.fillStyle = "#5a6577";
  ctx.fillText(hi.toPrecision(4), 2, top + 4);
  ctx.fillText(lo.toPrecision(4), 2, h - bottom);
  ctx.fillText(String(x0), left, h - 4);
  const last = String(xs[xs.length - 1]);
  ctx.fillText(last, w - 8 - ctx.measureText(last).width, h - 4);
  ctx.fillText(label, 2, 11);
}

function pictureCard(name) {
  const box = document.getElementById("pictures");
  let card = box.querySelector('.picture[data-array="' + CSS.escape(name) + '"]');
  if (card) return card;
  card = document.createElement("div");
  card.className = "picture";
  card.dataset.array = name;
  const title = document.createElement("h3");
  const slice = document.createElement("div");
  slice.className = "slice";
  const heat = document.createElement("canvas");
  heat.className = "heatmap";
  const bar = document.createElement("canvas");
  bar.className = "colorbar";
  bar.width = 300; bar.height = 8;
  drawColorbar(bar);
  const scale = document.createElement("div");
  scale.className = "scale";
  scale.append(document.createElement("span"), document.createElement("span"));
  const line = document.createElement("canvas");
  line.className = "line reductions";
  line.width = 300; line.height = 140;
  card.append(title, slice, heat, bar, scale, line);
  box.appendChild(card);
  return card;
}

async function showPictures(pictures) {
  for (const p of pictures) {
    const card = pictureCard(p.array);
    if (card.dataset.timestep !== String(p.timestep)) {
      const table = await fetchTable("picture", p.array);
      const meta = table.schema.metadata;
      const values = table.getChild("value").toArray();
      const r = Number(meta.get("rows")), c = Number(meta.get("columns"));
      if (values.length === r * c && r > 0) {
        const [lo, hi] = drawHeatmap(card.querySelector("canvas.heatmap"), values, r, c);
        const spans = card.querySelectorAll(".scale span");
        spans[0].textContent = lo.toPrecision(4);
        spans[1].textContent = hi.toPrecision(4);
        card.querySelector("h3").textContent = p.array + " at timestep " + meta.get("timestep");
        card.querySelector(".slice").textContent = meta.get("slice") + " (" + r + " × " + c + ")";
        card.dataset.timestep = meta.get("timestep");
      }
    }
    const red = rows(await fetchTable("reductions", p.array));
    card.dataset.points = red.length;
    const last = red[red.length - 1];
    drawLine(card.querySelector("canvas.reductions"), red.map(x => x.timestep), [{ ys: red.map(x => x.mean), colour: "#1d4f91" }],
      last ? "mean by timestep (at " + last.timestep + ": min " + last.min.toPrecision(3) + ", max " + last.max.toPrecision(3) + ")"
                 : "mean by timestep");
  }
}

async function refresh() {
  try {
    const [run, ranks, nodes, arrays, timesteps, callbacks, feedback, errors, pictures] = await Promise.all(
      ["run", "ranks", "nodes", "arrays", "timesteps", "callbacks", "feedback", "errors", "pictures"].map(n => fetchTable(n)));
    showRun(rows(run)[0]);
    showRanks(rows(ranks));
    fillTable("nodes", rows(nodes), n => [n.node, n.host, n.ranks, bytes(n.pool_in_use), n.lost ? "lost: " + n.lost : "up"]);
    fillTable("arrays", rows(arrays), a => [a.name, a.dtype, a.shape, a.blocks, a.chunks, a.last_received]);
    fillTable("callbacks", rows(callbacks), c => [c.name, c.runs, c.failures, number(c.mean_ms, 2), number(c.last_ms, 2), c.last_timestep]);
    fillTable("feedback", rows(feedback), f => [f.key, f.timestep, f.value]);
    fillTable("errors", rows(errors).reverse(), e => [number(e.at, 1), e.source, e.timestep, e.message]);
    const t = rows(timesteps);
    drawLine(document.getElementById("timeline"), t.map(x => x.timestep), [{ ys: t.map(x => 1e3 * x.callback_seconds), colour: "#3b9c5a" }],
      "callback time per timestep (ms)");
    await showPictures(rows(pictures));
    refreshes++;
    document.body.dataset.refreshes = refreshes;
    text("message", "");
  } catch (e) {
    text("message", "cannot read the run: " + e.message);
  }
  setTimeout(refresh, REFRESH_MS);
}

refresh();
