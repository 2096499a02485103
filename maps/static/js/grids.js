// The grid layer: GeoJSON on a canvas, fetched by viewport and zoom, coloured by state and
// recoloured in place from the live stream.
import { paneRenderer } from './basemap.js';
import { ViewportLoader } from './viewport.js';

export const GRID_STATES = ['urgent', 'overdue', 'open', 'ok'];
const GRID_COLORS = { urgent: '#d93025', overdue: '#8e24aa', open: '#f29900', ok: '#34a853' };
const SELECTED_COLOR = '#1a73e8';

export class GridLayer {
  constructor(map, { onSelect }) {
    this.map = map;
    this.byCode = new Map();
    this.overdue = new Set();
    this.selected = null;
    this.loader = new ViewportLoader(map, (bbox, zoom) => `/api/grids?bbox=${bbox}&zoom=${zoom}`);
    this.layer = L.geoJSON(null, {
      renderer: paneRenderer('grids'),
      style: (feature) => this.style(feature.properties),
      onEachFeature: (feature, layer) => this.byCode.set(feature.properties.code, layer),
    });
    this.layer.on('click', (event) => onSelect(event.layer.feature.properties.code));
    this.layer.addTo(map);
  }

  /** urgent (an urgent open task) > overdue (an open task past its deadline: counted by the
   * API, or passed since, as the task store sees) > open > ok. */
  displayState(properties) {
    if (properties.state === 'urgent') return 'urgent';
    if (properties.overdue_tasks > 0 || this.overdue.has(properties.code)) return 'overdue';
    return properties.state === 'open' ? 'open' : 'ok';
  }

  style(properties) {
    const state = this.displayState(properties);
    const selected = properties.code === this.selected;
    return {
      color: selected ? SELECTED_COLOR : '#ffffff',
      weight: selected ? 3 : 0.8,
      opacity: 0.95,
      fillColor: GRID_COLORS[state],
      fillOpacity: state === 'ok' ? 0.2 : 0.55,
    };
  }

  get count() {
    return this.byCode.size;
  }

  /** Loads the grids of the view if what is loaded does not cover it; true if it did. */
  async refresh(options) {
    const collection = await this.loader.fetch(options);
    if (collection === null) return false;
    this.layer.clearLayers();
    this.byCode.clear();
    this.layer.addData(collection);
    this.selected && this.byCode.get(this.selected)?.bringToFront();
    return true;
  }

  restyle(code) {
    const layer = this.byCode.get(code);
    layer?.setStyle(this.style(layer.feature.properties));
  }

  /** A live ``grid`` message: new task counts and state of one grid. */
  update(message) {
    const layer = this.byCode.get(message.grid_code);
    if (!layer) return;
    const { state, open_tasks: openTasks, urgent_tasks: urgentTasks, overdue_tasks: overdueTasks } = message;
    Object.assign(layer.feature.properties, {
      state, open_tasks: openTasks, urgent_tasks: urgentTasks, overdue_tasks: overdueTasks,
    });
    this.restyle(message.grid_code);
  }

  setOverdue(codes) {
    const changed = [...codes].filter((code) => !this.overdue.has(code));
    changed.push(...[...this.overdue].filter((code) => !codes.has(code)));
    this.overdue = codes;
    changed.forEach((code) => this.restyle(code));
  }

  select(code) {
    const previous = this.selected;
    this.selected = code;
    if (previous) this.restyle(previous);
    if (code) {
      this.restyle(code);
      this.byCode.get(code)?.bringToFront();
    }
  }

  centerOf(code) {
    return this.byCode.get(code)?.getBounds().getCenter() ?? null;
  }
}
