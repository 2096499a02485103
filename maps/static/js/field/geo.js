// Where the task is from me: distance and compass bearing on the sphere, and "navigate"
// links for AMap (GCJ-02) and Baidu (BD-09), whose apps expect their own datums.
import { wgsToBd } from '../bd09.js';
import { wgsToGcj } from '../gcj02.js';

const EARTH_RADIUS_M = 6371008.8;
const rad = (deg) => (deg * Math.PI) / 180;
const COMPASS = ['n', 'ne', 'e', 'se', 's', 'sw', 'w', 'nw'];

/** Metres between two [lon, lat] points (haversine). */
export function distanceM([lon1, lat1], [lon2, lat2]) {
  const dLat = rad(lat2 - lat1);
  const dLon = rad(lon2 - lon1);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h));
}

/** Initial bearing from ``from`` to ``to`` in degrees clockwise from north. */
export function bearingDeg([lon1, lat1], [lon2, lat2]) {
  const y = Math.sin(rad(lon2 - lon1)) * Math.cos(rad(lat2));
  const x = Math.cos(rad(lat1)) * Math.sin(rad(lat2)) - Math.sin(rad(lat1)) * Math.cos(rad(lat2)) * Math.cos(rad(lon2 - lon1));
  return ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360;
}

/** The i18n key of the compass point nearest to ``deg`` (field.dir.n … field.dir.nw). */
export function compassKey(deg) {
  return `field.dir_${COMPASS[Math.round(deg / 45) % 8]}`;
}

/** AMap and Baidu links to the WGS84 point ``[lon, lat]``, each in its own datum. */
export function navigationLinks([lon, lat], name) {
  const [gLon, gLat] = wgsToGcj(lon, lat);
  const [bLon, bLat] = wgsToBd(lon, lat);
  const label = encodeURIComponent(name);
  return {
    amap: `https://uri.amap.com/navigation?to=${gLon.toFixed(6)},${gLat.toFixed(6)},${label}&mode=car&coordinate=gaode&callnative=1`,
    baidu: `https://api.map.baidu.com/marker?location=${bLat.toFixed(6)},${bLon.toFixed(6)}&title=${label}&content=${label}&coord_type=bd09ll&output=html&src=wangge.field`,
  };
}

/** The phone's position as [lon, lat, accuracy m]; rejects if there is none. */
export function myPosition(timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new Error('no geolocation'));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve([p.coords.longitude, p.coords.latitude, p.coords.accuracy]),
      reject,
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 30000 },
    );
  });
}
