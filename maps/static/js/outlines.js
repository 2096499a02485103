// District and community outlines: the base map when no tiles are configured (offline).
import { bboxParam, getJSON } from './api.js';
import { paneRenderer } from './basemap.js';

export class Outlines {
  constructor(map) {
    this.map = map;
    const renderer = paneRenderer('outlines');
    const outline = (style) => L.geoJSON(null, { renderer, interactive: false, style }).addTo(map);
    this.districts = outline({ color: '#3c4043', weight: 2.5, fill: false });
    this.communities = outline({ color: '#5f6368', weight: 1.2, dashArray: '4 3', fill: false });
  }

  /** Once, for the area the map opened on. */
  async load() {
    const bbox = bboxParam(this.map.getBounds().pad(0.5));
    const zoom = Math.round(this.map.getZoom());
    const [districts, communities] = await Promise.all([
      getJSON(`/api/districts?bbox=${bbox}&zoom=${zoom}`),
      getJSON(`/api/communities?bbox=${bbox}&zoom=${zoom}`),
    ]);
    this.districts.addData(districts);
    this.communities.addData(communities);
  }
}
