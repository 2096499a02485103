// The Leaflet map with the configured base layer (none / local / tianditu / amap) and the
// panes the overlays draw in, bottom to top.
import { config } from './config.js';
import { gcj02Crs } from './gcj02.js';
import { onLanguageChange, t } from './i18n.js';

const PANES = { outlines: 350, grids: 400, buildings: 420, devices: 600, tasks: 650 };
const DEFAULT_VIEW = { center: [40.65, 109.84], zoom: 11 };

export function createMap(element) {
  const base = config.base;
  const map = L.map(element, {
    preferCanvas: true,
    crs: base.datum === 'gcj02' ? gcj02Crs() : L.CRS.EPSG3857,
    minZoom: 4,
    maxZoom: 19,
  });
  for (const [name, zIndex] of Object.entries(PANES)) {
    map.createPane(`${name}Pane`).style.zIndex = String(zIndex);
  }
  map.getContainer().classList.add(`base-${base.kind}`);
  map.attributionControl.setPrefix('Leaflet');
  const tiles = base.tiles.map((source) =>
    L.tileLayer(source.url, {
      subdomains: source.subdomains || 'abc',
      maxNativeZoom: source.max_zoom,
      maxZoom: 19,
      attribution: t(source.attribution),
    }).addTo(map),
  );
  onLanguageChange(() => {
    base.tiles.forEach((source, i) => {
      map.attributionControl.removeAttribution(tiles[i].getAttribution());
      tiles[i].options.attribution = t(source.attribution);
      map.attributionControl.addAttribution(tiles[i].getAttribution());
    });
  });
  if (config.bounds) {
    const [minx, miny, maxx, maxy] = config.bounds;
    map.fitBounds([[miny, minx], [maxy, maxx]], { padding: [12, 12] });
  } else {
    map.setView(DEFAULT_VIEW.center, DEFAULT_VIEW.zoom);
  }
  return map;
}

/** A canvas renderer drawing into one of the panes above. */
export function paneRenderer(pane) {
  return L.canvas({ pane: `${pane}Pane`, padding: 0.3 });
}
