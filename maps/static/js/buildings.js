// Building footprints, only from the configured zoom on (a district has tens of thousands).
import { paneRenderer } from './basemap.js';
import { t } from './i18n.js';
import { ViewportLoader } from './viewport.js';

export class BuildingLayer {
  constructor(map, minZoom) {
    this.map = map;
    this.minZoom = minZoom;
    this.loader = new ViewportLoader(map, (bbox, zoom) => `/api/buildings?bbox=${bbox}&zoom=${zoom}`);
    this.layer = L.geoJSON(null, {
      renderer: paneRenderer('buildings'),
      style: { color: '#5f6368', weight: 1, fillColor: '#dadce0', fillOpacity: 0.85 },
      onEachFeature: (feature, layer) => layer.bindTooltip(() => this.describe(feature.properties)),
    });
  }

  describe(p) {
    const name = p.name || p.code;
    return t('building.tooltip', { name, floors: p.floors ?? '—', households: p.households });
  }

  async refresh() {
    if (this.map.getZoom() < this.minZoom) {
      this.loader.forget();
      this.layer.remove();
      return;
    }
    const collection = await this.loader.fetch();
    if (collection === null) return;
    this.layer.clearLayers();
    this.layer.addData(collection);
    this.layer.addTo(this.map);
  }
}
