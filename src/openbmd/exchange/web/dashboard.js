// The live dashboard: a signed-in partner's view of the centre, drawn as it arrives.
//
// Data comes only from this origin: the partner's own feed (WS /v1/feed, signed in the
// browser), the public log state (/dashboard/log.json, the /v1/log checkpoints) and the public
// keys (/v1/partners, /v1/log/key) used to check signatures here. What is drawn is what the
// partner's agreements let it see: at L3 the fused state (position, velocity), at L1/L2 only
// the rounded impact and launch areas, at L0 a list entry.

import { areaOutline, countryRings, ecef2geodetic, greatCircle, plotPosition, svgPath } from "./geo.js";
import { Partner, unb64 } from "./signin.js";

const SVG = "http://www.w3.org/2000/svg";
const NOTE_TYPES = new Set([
  "fused_launch_notification", "launch_event", "pre_launch_notification", "post_launch_notification", "space_event",
]);
const MAX_PLOTS = 5000;
const MAX_LIST = 300;
const $ = (id) => document.getElementById(id);

const state = {
  partner: null,
  ws: null,
  after: -1,
  seen: new Set(), // message ids (the feed resumes after the last index; ids dedup anyway)
  count: 0,
  fused: new Map(), // track_id → {item, msg, drawnAt}
  tracks: new Map(), // sender/track_id → [{t, lon, lat, alt}]
  plots: [], // {lon, lat, sender}
  areas: new Map(), // message_id → {msg, item}
  view: { x: -180, y: -90, w: 360, h: 180 },
  retry: 1000,
  logTimer: null,
  keys: new Map(), // note key name → CryptoKey (public), for signature checks
};

function el(tag, attrs = {}, parent = null, text = null) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function html(tag, cls, text, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== null && text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function setStatus(text, kind) {
  const s = $("status");
  s.textContent = text;
  s.dataset.state = kind;
}

// ------------------------------------------------------------------ the base map
async function drawBaseMap() {
  const g = $("graticule");
  for (let lon = -180; lon <= 180; lon += 30) el("path", { d: `M${lon},-90V90` }, g);
  for (let lat = -60; lat <= 60; lat += 30) el("path", { d: `M-540,${-lat}H540` }, g);
  const resp = await fetch("/dashboard/countries.json");
  const topo = await resp.json();
  const parent = $("countries");
  for (const c of countryRings(topo)) {
    const p = el("path", { d: c.rings.map((r) => svgPath(r, true)).join("") }, parent);
    el("title", {}, p, c.name);
  }
}

function setView(v) {
  const svg = $("map");
  const aspect = svg.clientWidth / Math.max(1, svg.clientHeight) || 2;
  let { x, y, w, h } = v;
  if (w / h < aspect) {
    const nw = h * aspect;
    x -= (nw - w) / 2;
    w = nw;
  } else {
    const nh = w / aspect;
    y -= (nh - h) / 2;
    h = nh;
  }
  state.view = { x, y, w, h };
  svg.setAttribute("viewBox", `${x} ${y} ${w} ${h}`);
  render();
}

function overlayPoints() {
  const pts = [];
  for (const f of state.fused.values()) pts.push(...f.line);
  for (const t of state.tracks.values()) pts.push(...t.pts.map((p) => [p.lon, p.lat]));
  for (const a of state.areas.values()) pts.push(...a.outlines.flat());
  for (const p of state.plots.slice(-500)) pts.push([p.lon, p.lat]);
  return pts;
}

function fit() {
  const pts = overlayPoints();
  if (!pts.length) return setView({ x: -180, y: -90, w: 360, h: 180 });
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => -p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const w = Math.max(12, (x1 - x0) * 1.3);
  const h = Math.max(8, (y1 - y0) * 1.3);
  setView({ x: (x0 + x1) / 2 - w / 2, y: (y0 + y1) / 2 - h / 2, w, h });
}

function installMapControls() {
  const svg = $("map");
  $("fit").addEventListener("click", fit);
  $("world").addEventListener("click", () => {
    $("follow").checked = false;
    setView({ x: -180, y: -90, w: 360, h: 180 });
  });
  const toMap = (ev) => {
    const m = svg.getScreenCTM().inverse();
    return new DOMPoint(ev.clientX, ev.clientY).matrixTransform(m);
  };
  svg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    $("follow").checked = false;
    const p = toMap(ev);
    const k = ev.deltaY > 0 ? 1.25 : 0.8;
    const v = state.view;
    setView({ x: p.x - (p.x - v.x) * k, y: p.y - (p.y - v.y) * k, w: v.w * k, h: v.h * k });
  }, { passive: false });
  let drag = null;
  svg.addEventListener("pointerdown", (ev) => {
    drag = { p: toMap(ev), v: { ...state.view } };
    svg.setPointerCapture(ev.pointerId);
  });
  svg.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    $("follow").checked = false;
    const p = toMap(ev);
    state.view.x -= p.x - drag.p.x;
    state.view.y -= p.y - drag.p.y;
    svg.setAttribute("viewBox", `${state.view.x} ${state.view.y} ${state.view.w} ${state.view.h}`);
  });
  svg.addEventListener("pointerup", () => {
    drag = null;
  });
  window.addEventListener("resize", () => setView(state.view));
}

// ------------------------------------------------------------------ what the view holds
function fmtTime(iso) {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "–";
}

function center(area) {
  return area && area.center ? [area.center.lon_deg, area.center.lat_deg] : null;
}

function addFused(item) {
  const m = item.message;
  const key = m.track_id || m.message_id;
  const old = state.fused.get(key);
  if (old && old.item.index >= item.index) return;
  const launch = center(m.launch_area);
  const impact = center(m.impact_area);
  let now = null;
  if (m.position_ecef_m) {
    const g = ecef2geodetic(m.position_ecef_m);
    now = { lon: g.lon_deg, lat: g.lat_deg, alt: g.alt_m };
  }
  // ground track: launch → present sub-point → predicted impact, along great circles
  const stops = [launch, now && [now.lon, now.lat], impact].filter(Boolean);
  const line = [];
  for (let k = 1; k < stops.length; k += 1) line.push(...greatCircle(stops[k - 1], stops[k]));
  const outlines = [m.impact_area, m.launch_area].filter(Boolean).map((a) => areaOutline(a));
  state.fused.set(key, { item, msg: m, now, line, outlines, drawnAt: old ? old.drawnAt : null });
}

function addTrackUpdate(item) {
  const m = item.message;
  if (!m.position_ecef_m) return;
  const g = ecef2geodetic(m.position_ecef_m);
  const key = `${m.sender}/${m.track_id}`;
  const track = state.tracks.get(key) || { pts: [], index: -1, drawnAt: null };
  track.pts.push({ t: m.epoch, lon: g.lon_deg, lat: g.lat_deg, alt: g.alt_m });
  track.pts.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  if (item.index > track.index) [track.index, track.drawnAt] = [item.index, null];
  state.tracks.set(key, track);
}

function addAreas(item) {
  const m = item.message;
  const outlines = [m.impact_area, m.launch_area].filter(Boolean).map((a) => areaOutline(a));
  if (outlines.length) state.areas.set(m.message_id, { item, msg: m, outlines });
}

function summary(item) {
  const m = item.message;
  const parts = [];
  if (m.threat_class || m.missile_class) parts.push(m.threat_class || m.missile_class);
  if (m.track_id) parts.push(m.track_id);
  if (m.confidence) parts.push(m.confidence);
  const c = m.impact_area && m.impact_area.center;
  if (c) parts.push(`impact ${c.lat_deg.toFixed(2)}°, ${c.lon_deg.toFixed(2)}°`);
  if (m.impact_area && m.impact_area.semi_major_km) {
    parts.push(`${m.impact_area.semi_major_km.toFixed(0)}×${m.impact_area.semi_minor_km.toFixed(0)} km`);
  }
  if (m.impact_time) parts.push(`at ${fmtTime(m.impact_time)}`);
  if (m.report_indices) parts.push(`${m.report_indices.length} reports (log #${m.report_indices[0]}…)`);
  if (m.text) parts.push(m.text.slice(0, 80));
  return parts.join(" · ");
}

function listItem(item) {
  const list = $("notifications");
  const li = html("li", `note level-${item.level}`, null, null);
  li.dataset.index = item.index;
  li.dataset.type = item.type;
  li.dataset.messageId = item.message_id;
  const head = html("div", "note-head", null, li);
  html("span", "idx", `#${item.index}`, head);
  html("span", "type", item.type.replace(/_/g, " "), head);
  html("span", "level", item.level, head);
  html("span", "from", `from ${item.sender}`, head);
  html("div", "note-body", summary(item), li);
  html("div", "note-time", fmtTime(item.message.sent_at), li);
  list.prepend(li);
  while (list.children.length > MAX_LIST) list.lastChild.remove();
}

function handle(item) {
  state.after = Math.max(state.after, item.index);
  if (state.seen.has(item.message_id)) return;
  state.seen.add(item.message_id);
  state.count += 1;
  const m = item.message || {};
  if (item.type === "fused_launch_notification") addFused(item);
  else if (item.type === "track_update") addTrackUpdate(item);
  else if (item.type === "radar_report" && m.plots) {
    for (const p of m.plots) {
      const g = plotPosition(p);
      state.plots.push({ lon: g.lon_deg, lat: g.lat_deg, sender: m.sender });
    }
    if (state.plots.length > MAX_PLOTS) state.plots.splice(0, state.plots.length - MAX_PLOTS);
  } else if (NOTE_TYPES.has(item.type)) addAreas(item);
  if (NOTE_TYPES.has(item.type) || item.type === "free_text") listItem(item);
}

// ------------------------------------------------------------------ drawing
let pending = false;
function scheduleRender() {
  if (pending) return;
  pending = true;
  queueMicrotask(() => {
    pending = false;
    if ($("follow").checked) fit();
    else render();
    $("count").textContent = `${state.count} items in your view`;
  });
}

function render() {
  const [areas, tracks, labels] = [$("areas"), $("tracks"), $("labels")];
  areas.replaceChildren();
  tracks.replaceChildren();
  labels.replaceChildren();
  const s = state.view.w / 80; // marker and text size in map degrees
  for (const a of state.areas.values()) {
    a.outlines.forEach((o, k) => {
      el("path", { d: svgPath(o, true), class: k === 0 && a.msg.impact_area ? "impact" : "launch" }, areas);
    });
  }
  for (const p of state.plots) el("circle", { cx: p.lon, cy: -p.lat, r: s * 0.2, class: "plot" }, tracks);
  const now = Date.now();
  for (const [key, t] of state.tracks) {
    if (t.drawnAt === null) t.drawnAt = now;
    const g = el("g", {
      class: "track-update", "data-track": key, "data-last-index": t.index, "data-drawn-ms": t.drawnAt,
    }, tracks);
    el("path", { d: svgPath(t.pts.map((p) => [p.lon, p.lat])), class: "track-update" }, g);
    const last = t.pts[t.pts.length - 1];
    el("circle", { cx: last.lon, cy: -last.lat, r: s * 0.3, class: "track-update-head" }, g);
    el("text", { x: last.lon + s * 0.5, y: -last.lat, "font-size": s * 0.9 }, labels, key);
  }
  for (const [key, f] of state.fused) {
    if (f.drawnAt === null) f.drawnAt = now;
    const g = el("g", {
      class: "fused", "data-track": key, "data-index": f.item.index, "data-level": f.item.level,
      "data-message-id": f.item.message_id, "data-drawn-ms": f.drawnAt,
    }, tracks);
    const [impact, launch] = [f.msg.impact_area ? f.outlines[0] : null, f.outlines[f.msg.impact_area ? 1 : 0]];
    if (impact) el("path", { d: svgPath(impact, true), class: "impact" }, g);
    if (launch) el("path", { d: svgPath(launch, true), class: "launch" }, g);
    if (f.line.length) el("path", { d: svgPath(f.line), class: f.now ? "fused-track" : "fused-track coarse" }, g);
    if (f.now) el("circle", { cx: f.now.lon, cy: -f.now.lat, r: s * 0.45, class: "fused-head" }, g);
    const at = f.now ? [f.now.lon, f.now.lat] : center(f.msg.impact_area) || center(f.msg.launch_area);
    if (at) {
      const alt = f.now ? ` · ${(f.now.alt / 1e3).toFixed(0)} km` : "";
      const text = `${key} ${f.msg.threat_class || ""}${alt} (${f.item.level})`;
      el("text", { x: at[0] + s * 0.7, y: -at[1] - s * 0.5, "font-size": s * 1.1, class: "fused-label" }, labels, text);
    }
  }
}

// ------------------------------------------------------------------ the feed
async function connect() {
  if (!state.partner) return;
  setStatus("feed: connecting", "connecting");
  const ws = new WebSocket(await state.partner.feedUrl(state.after));
  state.ws = ws;
  ws.addEventListener("open", () => {
    state.retry = 1000;
    setStatus("feed: live", "live");
  });
  ws.addEventListener("message", (ev) => {
    handle(JSON.parse(ev.data));
    scheduleRender();
    scheduleLog();
  });
  ws.addEventListener("close", (ev) => {
    if (state.ws !== ws) return;
    setStatus(`feed: closed${ev.reason ? ` (${ev.reason})` : ""}; retrying`, "closed");
    setTimeout(connect, state.retry); // resumes after the last index received
    state.retry = Math.min(10000, state.retry * 2);
  });
}

// ------------------------------------------------------------------ the log panel
async function publicKey(spkiPem) {
  const der = unb64(spkiPem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""));
  return crypto.subtle.importKey("spki", der, { name: "Ed25519" }, false, ["verify"]);
}

async function loadKeys(centreName) {
  const [centre, partners] = await Promise.all([
    fetch("/v1/log/key").then((r) => r.text()),
    fetch("/v1/partners").then((r) => r.json()),
  ]);
  state.keys.set(centreName, await publicKey(centre));
  for (const p of partners) state.keys.set(p.name, await publicKey(p.public_key_pem));
  return partners;
}

function parseNote(text) {
  const cut = text.indexOf("\n\n");
  const body = text.slice(0, cut + 1);
  const [origin, size, root] = body.split("\n");
  const sigs = text.slice(cut + 2).split("\n").filter(Boolean).map((line) => {
    const [, name, b64sig] = line.match(/^\u2014 (\S+) (\S+)$/) || [];
    return { name, raw: b64sig ? unb64(b64sig) : new Uint8Array() };
  });
  return { body, origin, size: Number(size), root, sigs };
}

// Check a note signature line here: type 0x01 (keyID ‖ sig) over the body, or a C2SP
// cosignature (keyID ‖ big-endian time ‖ sig) over "cosignature/v1\ntime T\n" + body.
async function checkSig(body, sig) {
  let key = state.keys.get(sig.name);
  if (!key) {
    await loadKeys(state.centreName);
    key = state.keys.get(sig.name);
  }
  if (!key) return { ok: false, time: null };
  const enc = new TextEncoder();
  if (sig.raw.length === 68) {
    return { ok: await crypto.subtle.verify({ name: "Ed25519" }, key, sig.raw.slice(4), enc.encode(body)), time: null };
  }
  if (sig.raw.length !== 76) return { ok: false, time: null };
  const t = Number(new DataView(sig.raw.buffer).getBigUint64(4));
  const msg = enc.encode(`cosignature/v1\ntime ${t}\n${body}`);
  return { ok: await crypto.subtle.verify({ name: "Ed25519" }, key, sig.raw.slice(12), msg), time: t };
}

let logPending = null;
function scheduleLog() {
  if (logPending) return;
  logPending = setTimeout(async () => {
    logPending = null;
    await refreshLog();
  }, 200);
}

async function refreshLog() {
  const doc = await (await fetch("/dashboard/log.json", { cache: "no-store" })).json();
  state.centreName = doc.centre_key_name;
  const latest = parseNote(doc.checkpoint);
  $("log-size").textContent = `${latest.size} entries`;
  $("log-root").textContent = latest.root;
  const own = latest.sigs.filter((s) => s.name === doc.centre_key_name);
  const ok = own.length ? (await checkSig(latest.body, own[0])).ok : false;
  $("log-signer").textContent = `${doc.centre_key_name} ${ok ? "✓ verified here" : "✗ does not verify"}`;
  $("log-signer").dataset.ok = ok;
  const list = $("witnesses");
  list.replaceChildren();
  if (!doc.cosigned) {
    $("log-cosigned").textContent = "no witness cosignature yet";
    return;
  }
  const cp = parseNote(doc.cosigned);
  $("log-cosigned").textContent = `size ${cp.size} (${latest.size - cp.size} entries since)`;
  for (const s of cp.sigs.filter((x) => x.name !== doc.centre_key_name)) {
    const r = await checkSig(cp.body, s);
    const when = r.time ? new Date(r.time * 1000).toISOString().replace(".000Z", "Z") : "?";
    const li = html("li", r.ok ? "ok" : "bad", `${s.name} · ${when} · ${r.ok ? "✓ verified here" : "✗ does not verify"}`, list);
    li.dataset.witness = s.name;
    li.dataset.ok = r.ok;
  }
}

// ------------------------------------------------------------------ sign-in
async function readKeyInput() {
  const file = $("keyfile").files[0];
  if (file) return file.text();
  return $("keypem").value;
}

async function signIn(ev) {
  ev.preventDefault();
  const error = $("signin-error");
  error.textContent = "";
  try {
    const name = $("partner").value.trim();
    const partner = await Partner.fromPem(name, await readKeyInput());
    const registered = (await loadKeys(state.centreName || "")).find((p) => p.name === name);
    if (!registered) throw new Error(`partner: ${name} is not registered at this centre`);
    if (registered.fingerprint !== partner.fingerprint) {
      throw new Error(`key: this is not ${name}'s registered key (fingerprint ${partner.fingerprint.slice(0, 16)}…)`);
    }
    await partner.get("/v1/messages", { after: -1, limit: 1 }); // the centre accepts our signature
    state.partner = partner;
    $("keypem").value = "";
    $("keyfile").value = "";
    $("signin").hidden = true;
    $("who").textContent = `${partner.name} · key ${partner.fingerprint.slice(0, 16)}…`;
    $("who").dataset.partner = partner.name;
    await connect();
  } catch (err) {
    error.textContent = err.message || String(err);
  }
}

async function main() {
  installMapControls();
  $("signin").addEventListener("submit", signIn);
  await drawBaseMap();
  setView(state.view);
  await refreshLog();
  state.logTimer = setInterval(refreshLog, 3000);
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  setStatus(`error: ${err.message || err}`, "closed");
  throw err;
});
