// GCJ-02 (the datum of AMap/高德 tiles) from WGS84: the public forward formula, ported from
// gis/crs.py; the inverse is solved by fixed-point iteration, as there. Outside mainland
// China's box GCJ-02 equals WGS84.

const A = 6378245.0; // Krasovsky 1940
const EE = 0.00669342162296594323;
const INVERSE_TOLERANCE_DEG = 1e-10;
const INVERSE_MAX_ITERATIONS = 30;

function insideGcjArea(lng, lat) {
  return lng >= 72.004 && lng <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
}

function offset(lng, lat) {
  const x = lng - 105.0;
  const y = lat - 35.0;
  const sqrtAbsX = Math.sqrt(Math.abs(x));
  const common = ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrtAbsX + common;
  dLat += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  dLat += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  let dLng = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrtAbsX + common;
  dLng += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  dLng += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  const radLat = (lat * Math.PI) / 180;
  const magic = 1 - EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLng = (dLng * 180) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [dLng, dLat];
}

/** [lng, lat] in GCJ-02 of a WGS84 point. */
export function wgsToGcj(lng, lat) {
  if (!insideGcjArea(lng, lat)) return [lng, lat];
  const [dLng, dLat] = offset(lng, lat);
  return [lng + dLng, lat + dLat];
}

/** [lng, lat] in WGS84 of a GCJ-02 point. */
function gcjToWgs(lng, lat) {
  let wLng = lng;
  let wLat = lat;
  for (let i = 0; i < INVERSE_MAX_ITERATIONS; i += 1) {
    const [gLng, gLat] = wgsToGcj(wLng, wLat);
    const eLng = gLng - lng;
    const eLat = gLat - lat;
    wLng -= eLng;
    wLat -= eLat;
    if (Math.abs(eLng) <= INVERSE_TOLERANCE_DEG && Math.abs(eLat) <= INVERSE_TOLERANCE_DEG) break;
  }
  return [wLng, wLat];
}

/** Web Mercator through GCJ-02: WGS84 data lands on GCJ-02 tiles, clicks come back in WGS84. */
export function gcj02Crs() {
  const mercator = L.Projection.SphericalMercator;
  const projection = {
    R: mercator.R,
    MAX_LATITUDE: mercator.MAX_LATITUDE,
    bounds: mercator.bounds,
    project(latlng) {
      const [lng, lat] = wgsToGcj(latlng.lng, latlng.lat);
      return mercator.project(L.latLng(lat, lng));
    },
    unproject(point) {
      const gcj = mercator.unproject(point);
      const [lng, lat] = gcjToWgs(gcj.lng, gcj.lat);
      return L.latLng(lat, lng);
    },
  };
  return L.extend({}, L.CRS.EPSG3857, { code: 'GCJ02', projection });
}
