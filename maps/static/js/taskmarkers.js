// Work orders as markers, clustered: a cluster turns red when it holds an urgent task.
import { label } from './i18n.js';

function clusterIcon(cluster) {
  const markers = cluster.getAllChildMarkers();
  const urgent = markers.some((marker) => marker.task.urgency === 'urgent');
  const span = document.createElement('span');
  span.textContent = String(markers.length);
  return L.divIcon({ html: span, className: `task-cluster${urgent ? ' urgent' : ''}`, iconSize: L.point(34, 34) });
}

function iconKey(task) {
  return `${task.urgency}|${task.state}|${task.fresh ? 1 : 0}`;
}

function located(task) {
  return task.lon !== null && task.lon !== undefined && task.lat !== null && task.lat !== undefined;
}

export class TaskMarkers {
  constructor(map, { onSelect }) {
    this.map = map;
    this.byId = new Map();
    this.cluster = L.markerClusterGroup({
      clusterPane: 'tasksPane',
      maxClusterRadius: 40,
      showCoverageOnHover: false,
      chunkedLoading: true,
      iconCreateFunction: clusterIcon,
    });
    this.cluster.on('click', (event) => onSelect(event.layer.task.id));
    map.addLayer(this.cluster);
  }

  get count() {
    return this.byId.size;
  }

  has(id) {
    return this.byId.has(Number(id));
  }

  marker(task) {
    const marker = L.marker([task.lat, task.lon], {
      pane: 'tasksPane',
      icon: L.divIcon({
        className: `task-marker ${task.urgency} state-${task.state}${task.fresh ? ' fresh' : ''}`,
        iconSize: L.point(22, 22),
      }),
      keyboard: false,
    });
    marker.task = task;
    marker.key = iconKey(task);
    marker.bindTooltip(() => `#${task.id} ${task.title} · ${label('state', task.state)}`, {
      direction: 'top',
      offset: [0, -10],
    });
    return marker;
  }

  /** Shows exactly ``tasks`` (those with a location), re-using markers that did not change. */
  show(tasks) {
    const wanted = new Map(tasks.filter(located).map((task) => [task.id, task]));
    const remove = [];
    const add = [];
    for (const [id, marker] of this.byId) {
      const task = wanted.get(id);
      const moved = task && !marker.getLatLng().equals([task.lat, task.lon]);
      if (!task || moved || marker.key !== iconKey(task)) {
        remove.push(marker);
        this.byId.delete(id);
      }
    }
    for (const task of wanted.values()) {
      if (this.byId.has(task.id)) continue;
      const marker = this.marker(task);
      this.byId.set(task.id, marker);
      add.push(marker);
    }
    if (remove.length) this.cluster.removeLayers(remove);
    if (add.length) this.cluster.addLayers(add);
  }

  /** Brings one task's marker into view (opening its cluster). */
  reveal(id) {
    const marker = this.byId.get(Number(id));
    if (marker) this.cluster.zoomToShowLayer(marker, () => marker.openTooltip());
  }
}
