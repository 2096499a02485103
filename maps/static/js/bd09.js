// BD-09 (Baidu maps) from GCJ-02 and from WGS84: the public formula, ported from gis/crs.py
// (gcj02_to_bd09), so the Baidu "navigate" link lands where AMap's does.
import { wgsToGcj } from './gcj02.js';

const X_PI = (Math.PI * 3000.0) / 180.0;

/** [lng, lat] in BD-09 of a GCJ-02 point. */
export function gcjToBd(lng, lat) {
  const radius = Math.sqrt(lng * lng + lat * lat) + 0.00002 * Math.sin(lat * X_PI);
  const theta = Math.atan2(lat, lng) + 0.000003 * Math.cos(lng * X_PI);
  return [radius * Math.cos(theta) + 0.0065, radius * Math.sin(theta) + 0.006];
}

/** [lng, lat] in BD-09 of a WGS84 point. */
export function wgsToBd(lng, lat) {
  const [gLng, gLat] = wgsToGcj(lng, lat);
  return gcjToBd(gLng, gLat);
}
