// Geometry of the dashboard map: TopoJSON outlines to SVG paths, WGS-84 frames, areas.
//
// The map is plate carrée drawn in degrees: x = longitude, y = -latitude (SVG y grows down).
// Positions arrive as ECEF metres (WGS-84) or as geodetic degrees; areas as the exchange's
// circle / ellipse / polygon objects (km, degrees; an ellipse's orientation is its major axis
// from north towards east, as in openbmd.tracking.predict_impact).

const A = 6378137.0; // WGS-84 semi-major axis [m]
const F = 1 / 298.257223563; // WGS-84 flattening
const E2 = F * (2 - F);
const R_MEAN = 6371008.8; // mean Earth radius for small-area offsets [m]
const RAD = Math.PI / 180;

// Decode the quantised, delta-encoded arcs of a TopoJSON topology to [lon, lat] degrees.
export function decodeArcs(topo) {
  const [sx, sy] = topo.transform.scale;
  const [tx, ty] = topo.transform.translate;
  return topo.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map(([dx, dy]) => {
      x += dx;
      y += dy;
      return [x * sx + tx, y * sy + ty];
    });
  });
}

// One closed ring from arc indices (a negative index ~i is arc i reversed; consecutive arcs
// share their joining point, kept once).
function stitch(arcs, indices) {
  const out = [];
  for (const i of indices) {
    const arc = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
    out.push(...(out.length ? arc.slice(1) : arc));
  }
  return out;
}

// Every ring of every country: [{name, rings: [[[lon, lat], ...], ...]}].
export function countryRings(topo) {
  const arcs = decodeArcs(topo);
  return topo.objects.countries.geometries.map((g) => {
    const polys = g.type === "Polygon" ? [g.arcs] : g.type === "MultiPolygon" ? g.arcs : [];
    return { name: (g.properties || {}).name || "", rings: polys.flat().map((r) => stitch(arcs, r)) };
  });
}

// Make a line continuous across the antimeridian (longitudes may leave [-180, 180]).
export function unwrap(points) {
  const out = [];
  let shift = 0;
  let prev = null;
  for (const [lon, lat] of points) {
    if (prev !== null) {
      const d = lon - prev;
      if (d > 180) shift -= 360;
      else if (d < -180) shift += 360;
    }
    prev = lon;
    out.push([lon + shift, lat]);
  }
  return out;
}

function pathOf(points, dx, close) {
  const parts = points.map(([lon, lat], k) => `${k ? "L" : "M"}${(lon + dx).toFixed(3)},${(-lat).toFixed(3)}`);
  return parts.join("") + (close ? "Z" : "");
}

// SVG path data of [lon, lat] points; a line that leaves [-180, 180] is drawn a second time
// shifted by 360° so both sides of the map show it.
export function svgPath(points, close = false) {
  const pts = unwrap(points);
  if (!pts.length) return "";
  const lons = pts.map((p) => p[0]);
  let d = pathOf(pts, 0, close);
  if (Math.min(...lons) < -180) d += pathOf(pts, 360, close);
  if (Math.max(...lons) > 180) d += pathOf(pts, -360, close);
  return d;
}

// Geodetic [lat, lon] degrees and altitude [m] of an ECEF position [m] (WGS-84, Bowring).
export function ecef2geodetic([x, y, z]) {
  const lon = Math.atan2(y, x);
  const p = Math.hypot(x, y);
  let lat = Math.atan2(z, p * (1 - E2));
  let h = 0;
  for (let k = 0; k < 6; k += 1) {
    const s = Math.sin(lat);
    const n = A / Math.sqrt(1 - E2 * s * s);
    h = p / Math.cos(lat) - n;
    lat = Math.atan2(z, p * (1 - (E2 * n) / (n + h)));
  }
  return { lat_deg: lat / RAD, lon_deg: wrap180(lon / RAD), alt_m: h };
}

export function geodetic2ecef(latDeg, lonDeg, altM) {
  const lat = latDeg * RAD;
  const lon = lonDeg * RAD;
  const s = Math.sin(lat);
  const n = A / Math.sqrt(1 - E2 * s * s);
  return [
    (n + altM) * Math.cos(lat) * Math.cos(lon),
    (n + altM) * Math.cos(lat) * Math.sin(lon),
    (n * (1 - E2) + altM) * s,
  ];
}

export function wrap180(lonDeg) {
  return ((((lonDeg + 180) % 360) + 360) % 360) - 180;
}

// Where a radar plot (range, azimuth from north towards east, elevation) puts the target.
export function plotPosition(p) {
  const lat = p.sensor_lat_deg * RAD;
  const lon = p.sensor_lon_deg * RAD;
  const site = geodetic2ecef(p.sensor_lat_deg, p.sensor_lon_deg, p.sensor_alt_km * 1e3);
  const r = p.range_km * 1e3;
  const az = p.azimuth_deg * RAD;
  const el = p.elevation_deg * RAD;
  const [e, nn, u] = [r * Math.cos(el) * Math.sin(az), r * Math.cos(el) * Math.cos(az), r * Math.sin(el)];
  const east = [-Math.sin(lon), Math.cos(lon), 0];
  const north = [-Math.sin(lat) * Math.cos(lon), -Math.sin(lat) * Math.sin(lon), Math.cos(lat)];
  const up = [Math.cos(lat) * Math.cos(lon), Math.cos(lat) * Math.sin(lon), Math.sin(lat)];
  return ecef2geodetic([0, 1, 2].map((i) => site[i] + e * east[i] + nn * north[i] + u * up[i]));
}

// The point at *distanceM* from (lat, lon) [deg] along *bearing* [rad from north] (sphere).
export function destination(latDeg, lonDeg, bearing, distanceM) {
  const d = distanceM / R_MEAN;
  const lat1 = latDeg * RAD;
  const lat2 = Math.asin(Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(bearing));
  const lon2 = lonDeg * RAD + Math.atan2(
    Math.sin(bearing) * Math.sin(d) * Math.cos(lat1),
    Math.cos(d) - Math.sin(lat1) * Math.sin(lat2),
  );
  return [lon2 / RAD, lat2 / RAD];
}

// Points [lon, lat] along the great circle from a to b ([lon, lat] degrees).
export function greatCircle(a, b, n = 48) {
  const v = ([lon, lat]) => [Math.cos(lat * RAD) * Math.cos(lon * RAD), Math.cos(lat * RAD) * Math.sin(lon * RAD), Math.sin(lat * RAD)];
  const p = v(a);
  const q = v(b);
  const omega = Math.acos(Math.min(1, Math.max(-1, p[0] * q[0] + p[1] * q[1] + p[2] * q[2])));
  if (omega < 1e-9) return [a, b];
  const out = [];
  for (let k = 0; k <= n; k += 1) {
    const t = k / n;
    const wa = Math.sin((1 - t) * omega) / Math.sin(omega);
    const wb = Math.sin(t * omega) / Math.sin(omega);
    const [x, y, z] = [0, 1, 2].map((i) => wa * p[i] + wb * q[i]);
    out.push([Math.atan2(y, x) / RAD, Math.atan2(z, Math.hypot(x, y)) / RAD]);
  }
  return out;
}

// The outline [[lon, lat], ...] of an exchange area object (circle, ellipse or polygon).
export function areaOutline(area, n = 72) {
  if (!area) return [];
  if (area.shape === "polygon") return area.points.map((p) => [p.lon_deg, p.lat_deg]);
  const c = area.center;
  const major = (area.shape === "circle" ? area.radius_km : area.semi_major_km) * 1e3;
  const minor = (area.shape === "circle" ? area.radius_km : area.semi_minor_km) * 1e3;
  const th = (area.orientation_deg || 0) * RAD;
  const out = [];
  for (let k = 0; k <= n; k += 1) {
    const phi = (2 * Math.PI * k) / n;
    const a = major * Math.cos(phi);
    const b = minor * Math.sin(phi);
    const east = a * Math.sin(th) + b * Math.cos(th);
    const north = a * Math.cos(th) - b * Math.sin(th);
    out.push(destination(c.lat_deg, c.lon_deg, Math.atan2(east, north), Math.hypot(east, north)));
  }
  return out;
}
