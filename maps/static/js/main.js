// The operators' live map: wires the layers, the panels and the live stream together.
// ``window.wangge`` exposes the parts (and ``ready``) for tests and benchmarks.
import { getJSON, isAbort, postJSON } from './api.js';
import { config } from './config.js';
import { debounce, painted } from './dom.js';
import { applyTranslations, label, onLanguageChange, t, toggleLanguage } from './i18n.js';
import { createMap } from './basemap.js';
import { BuildingLayer } from './buildings.js';
import { DeviceLayer } from './devices.js';
import { GridLayer } from './grids.js';
import { GridPanel } from './gridpanel.js';
import { addLegend } from './legend.js';
import { LiveStream } from './live.js';
import { Outlines } from './outlines.js';
import { IncidentPulses } from './pulses.js';
import { TaskDetail } from './taskdetail.js';
import { TaskList } from './tasklist.js';
import { TaskMarkers } from './taskmarkers.js';
import { isOpen, TaskStore } from './taskstore.js';
import { toast } from './toast.js';

const REFRESH_MS = 30000; // deadlines pass without any message: re-check overdue
const DEVICES_MS = 60000; // online changes are streamed, heartbeats (last_seen) are not: reload
const MAX_TOASTS_PER_BATCH = 3;

const map = createMap('map');
const outlines = new Outlines(map);
const store = new TaskStore();
const grids = new GridLayer(map, { onSelect: (code) => showGrid(code) });
const buildings = new BuildingLayer(map, config.buildings_min_zoom);
const devices = new DeviceLayer(map);
const markers = new TaskMarkers(map, { onSelect: (id) => openTask(id, { reveal: false }) });
const pulses = new IncidentPulses(map);
const list = new TaskList(store, { onSelect: (id) => openTask(id), onFilter: () => markers.show(list.filtered()) });
const browser = document.getElementById('task-browser');
const detail = new TaskDetail({
  store,
  onClose: () => {
    list.selected = null;
    browser.hidden = false;
    renderTasks();
  },
  onGrid: (code) => showGrid(code),
  onChanged: () => renderTasks(),
});
const gridPanel = new GridPanel({ grids, onTask: (id) => openTask(id) });
const live = new LiveStream({ onMessages: applyLive, onReconnected: reloadAll });
const stats = { liveApplied: 0, resyncs: 0, slowestBatchMs: 0 };

function showTab(name) {
  for (const button of document.querySelectorAll('.tab-button')) button.classList.toggle('active', button.dataset.tab === name);
  for (const tab of document.querySelectorAll('.tab')) tab.classList.toggle('active', tab.id === `tab-${name}`);
}

function showGrid(code) {
  showTab('grid');
  gridPanel.show(code);
}

/** Opens a task in the panel and, unless its marker was what the user clicked, shows it. */
function openTask(id, { reveal = true } = {}) {
  showTab('tasks');
  list.selected = Number(id);
  browser.hidden = true;
  detail.open(id);
  if (reveal) markers.reveal(id);
}

/** ``/map?task=ID`` (the link in a worker's push) or ``/map?grid=CODE``. */
function openLinked() {
  const params = new URLSearchParams(window.location.search);
  if (params.has('task')) openTask(params.get('task'));
  else if (params.has('grid')) showGrid(params.get('grid'));
}

function renderTasks() {
  markers.show(list.filtered());
  list.renderSoon();
  grids.setOverdue(store.overdueGridCodes());
}

/** A task the stream announced without a place (no incident point): its grid's centre. */
async function locate(task) {
  const centre = task.grid_code ? grids.centerOf(task.grid_code) : null;
  if (centre) {
    Object.assign(task, { lon: centre.lng, lat: centre.lat });
    return;
  }
  const found = await getJSON(`/api/tasks/${task.id}`);
  store.put({ id: found.id, lon: found.lon, lat: found.lat, assignee_name: found.assignee_name });
  renderTasks();
}

function announce(tasks) {
  for (const task of tasks.slice(0, MAX_TOASTS_PER_BATCH)) {
    toast(t('toast.new_urgent', { title: task.title }), 'urgent', () => openTask(task.id));
  }
  if (tasks.length > MAX_TOASTS_PER_BATCH) toast(t('toast.more', { n: tasks.length - MAX_TOASTS_PER_BATCH }), 'urgent');
}

function applyLive(batch) {
  const started = performance.now();
  const changedGrids = new Set();
  const changedTasks = new Set();
  const fresh = [];
  let resync = false;
  for (const { kind, message } of batch) {
    if (kind === 'grid') {
      grids.update(message);
      changedGrids.add(message.grid_code);
    } else if (kind === 'task') {
      const created = store.apply(message);
      const task = store.get(message.id);
      changedTasks.add(task.id);
      if (task.lon === null || task.lon === undefined) locate(task).catch(() => {});
      if (created && task.urgency === 'urgent' && isOpen(task)) fresh.push(task);
    } else if (kind === 'incident') {
      pulses.add(message);
    } else if (kind === 'device') {
      devices.update(message);
    } else if (kind === 'resync') {
      resync = true;
    }
  }
  if (resync) {
    stats.resyncs += 1;
    reloadAll();
    return;
  }
  if (changedTasks.size) renderTasks();
  changedGrids.forEach((code) => gridPanel.changed(code));
  changedTasks.forEach((id) => detail.changed(id));
  announce(fresh);
  stats.liveApplied += batch.length;
  stats.slowestBatchMs = Math.max(stats.slowestBatchMs, performance.now() - started);
}

function ignoreAbort(error) {
  if (!isAbort(error)) throw error;
}

async function reloadAll() {
  await Promise.all([
    grids.refresh({ force: true }).catch(ignoreAbort),
    store.load().then(renderTasks),
    devices.load(),
  ]);
}

function header() {
  const user = config.user;
  const render = () => {
    document.getElementById('user-name').textContent = user.display_name;
    document.getElementById('user-role').textContent = label('role', user.role);
  };
  render();
  onLanguageChange(render);
  document.getElementById('lang-toggle').addEventListener('click', toggleLanguage);
  document.getElementById('logout').addEventListener('click', async () => {
    await postJSON('/api/auth/logout').catch(() => {});
    window.location.assign('/login');
  });
  for (const button of document.querySelectorAll('.tab-button')) button.addEventListener('click', () => showTab(button.dataset.tab));
}

async function start() {
  applyTranslations();
  header();
  addLegend(map);
  // Names are markup Leaflet inserts; data-i18n lets the language toggle translate them.
  const layerName = (key) => `<span data-i18n="${key}">${t(key)}</span>`;
  L.control.layers(null, {
    [layerName('layer.grids')]: grids.layer,
    [layerName('layer.tasks')]: markers.cluster,
    [layerName('layer.devices')]: devices.cluster,
  }, { position: 'topright', collapsed: true }).addTo(map);
  map.on('moveend', debounce(() => {
    grids.refresh().catch(ignoreAbort);
    buildings.refresh().catch(ignoreAbort);
  }, 120));
  live.start();
  setInterval(renderTasks, REFRESH_MS);
  setInterval(() => devices.load().catch(() => {}), DEVICES_MS);
  await Promise.all([
    grids.refresh(),
    store.load().then(renderTasks),
    outlines.load(),
    devices.load(),
    buildings.refresh(),
  ]);
  openLinked();
  await painted();
}

const ready = start();
window.wangge = { map, grids, store, markers, list, detail, gridPanel, devices, buildings, live, stats, ready };
