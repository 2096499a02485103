// Devices with their online state, clustered (a district has thousands of meters).
import { getJSON } from './api.js';
import { paneRenderer } from './basemap.js';
import { label, t } from './i18n.js';
import { formatTime } from './format.js';

const ONLINE = '#1e8e3e';
const OFFLINE = '#9aa0a6';

function clusterIcon(cluster) {
  const markers = cluster.getAllChildMarkers();
  const offline = markers.filter((marker) => !marker.device.online).length;
  const span = document.createElement('span');
  span.textContent = String(markers.length);
  return L.divIcon({
    html: span,
    className: `device-cluster${offline ? ' has-offline' : ''}`,
    iconSize: L.point(24, 24),
  });
}

export class DeviceLayer {
  constructor(map) {
    this.renderer = paneRenderer('devices');
    this.cluster = L.markerClusterGroup({
      clusterPane: 'devicesPane',
      chunkedLoading: true,
      maxClusterRadius: 60,
      showCoverageOnHover: false,
      disableClusteringAtZoom: 17,
      iconCreateFunction: clusterIcon,
    }).addTo(map);
    this.count = 0;
    this.byId = new Map();
  }

  describe(device) {
    const state = t(device.online ? 'device.online' : 'device.offline');
    const seen = device.last_seen ? formatTime(device.last_seen) : '—';
    return t('device.tooltip', { kind: label('device', device.kind), id: device.id, state, seen });
  }

  marker(feature) {
    const [lng, lat] = feature.geometry.coordinates;
    const device = feature.properties;
    const marker = L.circleMarker([lat, lng], {
      renderer: this.renderer,
      radius: 5,
      color: '#ffffff',
      weight: 1.5,
      fillColor: device.online ? ONLINE : OFFLINE,
      fillOpacity: 1,
    });
    marker.device = device;
    marker.bindTooltip(() => this.describe(device));
    this.byId.set(device.id, marker);
    return marker;
  }

  /** A live ``device`` message: the device went online or offline. */
  update(message) {
    const marker = this.byId.get(message.id);
    if (!marker) return;
    Object.assign(marker.device, { online: message.online, last_seen: message.last_seen });
    marker.setStyle({ fillColor: message.online ? ONLINE : OFFLINE });
    this.cluster.refreshClusters(marker);
  }

  async load() {
    const collection = await getJSON('/api/devices');
    this.byId.clear();
    const markers = collection.features.filter((f) => f.geometry).map((f) => this.marker(f));
    this.cluster.clearLayers();
    this.cluster.addLayers(markers);
    this.count = markers.length;
  }
}
