// The planners' editor (/plan): propose a draft (a job with progress), then move buildings
// between grids by click, brush or lasso with live counts and contiguity (plan-state.js),
// lock grids, jump to the next problem, "fix this grid" (the engine on the server), undo and
// redo, save (PUT with the version read; 409 = someone else saved), compare with the
// current grids side by side, import and export files, and apply from a date.
import { ApiError, getJSON, postForm, sendJSON } from './api.js';
import { config } from './config.js';
import { fill, h } from './dom.js';
import { applyTranslations, language, onLanguageChange, t, toggleLanguage } from './i18n.js';
import { Draft, inside } from './plan-state.js';

const PALETTE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d',
  '#1f78b4', '#b2df8a', '#fb9a99', '#fdbf6f', '#cab2d6'];
const POLL_MS = 300;
const $ = (id) => document.getElementById(id);

let resolveReady;
const wangge = {
  ready: new Promise((resolve) => { resolveReady = resolve; }), moveTimes: [], moveUiTimes: [],
};
window.wangge = wangge;

const state = {
  planId: config.plan_id, data: null, draft: null, version: 0, layers: [], centres: [],
  active: null, mode: 'click', undo: [], redo: [], dirty: false, problemAt: -1,
  gridLayer: null, currentMap: null, brushing: false, lasso: null, colours: new Map(), rows: new Map(),
};

// One canvas for every layer (preferCanvas): a second canvas on top would take the clicks.
const map = L.map('map', { preferCanvas: true, zoomControl: true });
wangge.map = map;

/** A grid's colour: fixed the first time the grid is seen, so moves never recolour others. */
function colour(code) {
  if (code === null) return '#9aa0a6';
  if (!state.colours.has(code)) state.colours.set(code, PALETTE[state.colours.size % PALETTE.length]);
  return state.colours.get(code);
}

function banner(text, kind = 'error', reload = false) {
  $('banner').hidden = !text;
  $('banner').className = `banner ${kind === 'ok' ? 'ok' : ''}`;
  $('banner-text').textContent = text || '';
  $('reload').hidden = !reload;
}

function idempotent() {
  return { 'Idempotency-Key': `plan-${crypto.randomUUID()}` };
}

// ---- propose job -------------------------------------------------------------------

function fillCommunities() {
  fill($('community'), ...config.communities.map((c) => h('option', { value: c.code }, `${c.name} ${c.code}`)));
}

async function propose() {
  banner('');
  const body = {
    community_code: $('community').value,
    seed: Number($('seed').value) || 0,
    stay_close: $('stay-close').checked,
  };
  const job = await sendJSON('POST', '/api/plans/propose', body, idempotent());
  $('job').hidden = false;
  $('cancel-job').hidden = false;
  $('cancel-job').onclick = () => sendJSON('DELETE', `/api/plans/propose/${job.id}`, undefined, idempotent());
  for (;;) {
    const now = await getJSON(`/api/plans/propose/${job.id}`);
    const text = now.stage_text[language() === 'en' ? 'en' : 'zh'];
    $('job-bar').style.width = `${Math.round(now.fraction * 100)}%`;
    $('job-text').textContent = `${text} ${Math.round(now.fraction * 100)}%`;
    if (now.status === 'done') {
      $('cancel-job').hidden = true;
      const made = now.result.plans.find((p) => p.plan_id);
      if (made) window.location.assign(`/plan?plan=${made.plan_id}`);
      return;
    }
    if (now.status === 'failed' || now.status === 'cancelled') {
      $('cancel-job').hidden = true;
      banner(`${t(`plan.job_${now.status}`)} ${now.error || ''}`);
      return;
    }
    await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
  }
}

// ---- the draft on the map ----------------------------------------------------------

function centreOf(geometry) {
  const ring = geometry.type === 'Polygon' ? geometry.coordinates[0] : geometry.coordinates[0][0];
  let x = 0;
  let y = 0;
  for (const [lon, lat] of ring) { x += lon; y += lat; }
  return [x / ring.length, y / ring.length];
}

async function loadDraft() {
  const data = await getJSON(`/api/plans/${state.planId}/editor`);
  state.data = data;
  state.version = data.plan.version;
  state.draft = new Draft(data.buildings, data.adjacency, data.targets);
  state.undo = [];
  state.redo = [];
  state.dirty = false;
  for (const layer of state.layers) layer.remove();
  state.centres = data.buildings.map((b) => centreOf(b.geometry));
  state.layers = data.buildings.map((b, i) => {
    const layer = L.polygon(L.GeoJSON.coordsToLatLngs(b.geometry.coordinates,
      b.geometry.type === 'Polygon' ? 1 : 2), {
      weight: 1, color: '#333', fillOpacity: 0.7, fillColor: '#9aa0a6',
    });
    layer.on('click', () => clickBuilding(i));
    layer.on('mouseover', () => { if (state.brushing) brushBuilding(i); });
    layer.bindTooltip(() => `${b.id} · ${b.households} ${t('plan.households')} · ${state.draft.grid[i] ?? ''}`);
    return layer.addTo(map);
  });
  drawGrids(data.grids);
  L.geoJSON(data.community, { style: { color: '#202124', weight: 2, fill: false }, interactive: false }).addTo(map);
  // Not animated: the page is ready (and screen positions hold) once the view is set.
  map.fitBounds(L.geoJSON(data.community).getBounds(), { animate: false });
  $('edit-tools').hidden = false;
  for (const fmt of ['geojson', 'zip', 'xlsx', 'html']) {
    $(`export-${fmt}`).href = `/api/plans/${state.planId}/export.${fmt}`;
  }
  $('community').value = data.plan.community_code;
  for (const code of state.draft.codes()) colour(code);
  recolour();
  renderPanel();
  await loadWorkers();
  if (data.plan.status !== 'draft') banner(t('plan.not_draft'), 'ok');
}

/** Where the workers go on apply (the server's choice), each changeable to any saved grid. */
async function loadWorkers() {
  state.workers = await getJSON(`/api/plans/${state.planId}/workers`);
  state.workersChanged = false;
  const codes = state.data.grids.features.map((f) => f.properties.code);
  fill($('worker-rows'), ...state.workers.map((w) => {
    const choice = h('select', { dataset: { worker: w.worker_id, role: w.role } },
      h('option', { value: '' }, t('plan.worker_ends')),
      ...codes.map((code) => h('option', { value: code, selected: code === w.to }, code.slice(12))));
    choice.addEventListener('change', () => {
      w.to = choice.value || null;
      state.workersChanged = true;
    });
    return h('tr', {}, h('td', {}, `${w.name ?? w.worker_id} · ${t(`role.${w.role}`)}`),
      h('td', {}, w.from ? `${w.from.slice(12)} →` : '→'), h('td', {}, choice));
  }));
}

/** The planner's worker choices as the apply's overrides: every grid's full list. */
function workerOverrides() {
  if (!state.workersChanged) return undefined;
  const out = {};
  for (const w of state.workers) {
    if (w.to) (out[w.to] ??= []).push({ worker_id: w.worker_id, role: w.role });
  }
  return out;
}

function drawGrids(collection) {
  if (state.gridLayer) state.gridLayer.remove();
  state.gridLayer = L.geoJSON(collection, {
    style: { color: '#202124', weight: 2, dashArray: '4 3', fill: false }, interactive: false,
  }).addTo(map);
}

function recolour(indices = null) {
  const all = indices ?? state.layers.map((_, i) => i);
  for (const i of all) state.layers[i].setStyle({ fillColor: colour(state.draft.grid[i]) });
}

function renderSummary() {
  const codes = state.draft.codes();
  $('summary').textContent = t('plan.summary', {
    grids: codes.length, problems: state.draft.problems().length, version: state.version,
  }) + (state.dirty ? ` · ${t('plan.unsaved')}` : '');
  $('undo').disabled = state.undo.length === 0;
  $('redo').disabled = state.redo.length === 0;
}

function renderRow(code) {
  const { draft } = state;
  const problem = draft.problem(code);
  const lock = h('input', { type: 'checkbox', checked: draft.locked.has(code), dataset: { code } });
  lock.addEventListener('change', () => {
    if (lock.checked) draft.locked.add(code); else draft.locked.delete(code);
    state.dirty = true;
    renderSummary();
  });
  return h('tr', {
    class: `${problem ? 'bad' : ''} ${state.active === code ? 'active' : ''}`,
    dataset: { code },
    onclick: (event) => { if (event.target !== lock) selectGrid(code); },
  },
  h('td', {}, h('span', { class: 'swatch', style: `background:${colour(code)}` }), code.slice(12)),
  h('td', { class: 'households' }, String(draft.totals.get(code))),
  h('td', { class: 'state' }, problem ? t(problem) : t('plan.ok')),
  h('td', {}, lock));
}

/** The whole grid table (after loading, language changes, grids appearing or emptying). */
function renderPanel() {
  state.rows = new Map(state.draft.codes().map((code) => [code, renderRow(code)]));
  fill($('grid-rows'), ...state.rows.values());
  renderSummary();
}

/** Only the rows of ``codes`` (the grids a move touched); the whole table if one is new or empty. */
function renderRows(codes) {
  if (codes.some((code) => !state.rows.has(code) || state.draft.members.get(code).size === 0)) {
    renderPanel();
    return;
  }
  for (const code of codes) {
    const row = renderRow(code);
    state.rows.get(code).replaceWith(row);
    state.rows.set(code, row);
  }
  renderSummary();
}

function selectGrid(code, zoom = false) {
  const before = state.active;
  state.active = code;
  if (zoom) {
    const members = [...state.draft.members.get(code)];
    const bounds = L.latLngBounds(members.map((i) => state.layers[i].getBounds()));
    map.fitBounds(bounds, { maxZoom: 17, animate: false });
  }
  renderRows([...new Set([before, code].filter((c) => c !== null && state.rows.has(c)))]);
}

// ---- moving buildings --------------------------------------------------------------

function move(changes) {
  const started = performance.now();
  const step = state.draft.apply(changes.filter(([i, to]) => state.draft.movable(i, to)));
  const ms = performance.now() - started;
  if (step.length === 0) return step;
  wangge.lastMoveMs = ms;
  wangge.moveTimes.push(ms);
  state.undo.push(step);
  state.redo = [];
  state.dirty = true;
  recolour(step.map(([i]) => i));
  renderRows(touchedBy(step));
  $('timing').textContent = t('plan.move_time', { n: step.length, ms: ms.toFixed(2) });
  // With the map restyled and the grid table rebuilt (the browser paints after this).
  wangge.moveUiTimes.push(performance.now() - started);
  return step;
}

function touchedBy(step) {
  return [...new Set(step.flatMap(([, from, to]) => [from, to]).filter((c) => c !== null))];
}

function clickBuilding(i) {
  if (state.mode === 'lasso') return;
  if (state.active === null || state.active === state.draft.grid[i]) {
    selectGrid(state.draft.grid[i]);
    return;
  }
  move([[i, state.active]]);
}

function brushBuilding(i) {
  if (state.active !== null) move([[i, state.active]]);
}

function replay(step, backwards) {
  state.draft.apply(step.map(([i, from, to]) => [i, backwards ? from : to]));
  recolour(step.map(([i]) => i));
  state.dirty = true;
}

function undo() {
  const step = state.undo.pop();
  if (!step) return;
  replay(step, true);
  state.redo.push(step);
  renderRows(touchedBy(step));
}

function redo() {
  const step = state.redo.pop();
  if (!step) return;
  replay(step, false);
  state.undo.push(step);
  renderRows(touchedBy(step));
}

function setMode(mode) {
  state.mode = mode;
  for (const button of document.querySelectorAll('.mode')) {
    button.classList.toggle('active', button.dataset.mode === mode);
  }
  document.body.classList.toggle('lasso-mode', mode === 'lasso');
  document.body.classList.toggle('brush-mode', mode === 'brush');
  if (mode === 'click') map.dragging.enable(); else map.dragging.disable();
}

map.on('mousedown', (event) => {
  if (state.mode === 'brush') state.brushing = true;
  if (state.mode === 'lasso') {
    state.lasso = L.polyline([event.latlng], { color: '#1a73e8', weight: 2, interactive: false }).addTo(map);
  }
});
map.on('mousemove', (event) => {
  if (state.lasso) state.lasso.addLatLng(event.latlng);
});
map.on('mouseup', () => {
  state.brushing = false;
  if (!state.lasso) return;
  const ring = state.lasso.getLatLngs().map((p) => [p.lng, p.lat]);
  state.lasso.remove();
  state.lasso = null;
  if (ring.length < 3 || state.active === null) return;
  const chosen = [];
  state.centres.forEach((centre, i) => { if (inside(centre, ring)) chosen.push([i, state.active]); });
  move(chosen);
});

function nextProblem() {
  const problems = state.draft.problems();
  if (problems.length === 0) {
    banner(t('plan.no_problems'), 'ok');
    return;
  }
  state.problemAt = (state.problemAt + 1) % problems.length;
  const code = problems[state.problemAt];
  selectGrid(code, true);
  banner(`${code.slice(12)}: ${t(state.draft.problem(code))}`, 'ok');
}

async function fixGrid() {
  if (state.active === null) return;
  const started = performance.now();
  banner(t('plan.fixing'), 'ok');
  const body = {
    grid: state.active,
    assignment: state.draft.assignment(state.data.buildings),
    locked: [...state.draft.locked],
  };
  const result = await sendJSON('POST', `/api/plans/${state.planId}/fix`, body, idempotent());
  const index = new Map(state.data.buildings.map((b, i) => [String(b.id), i]));
  move(Object.entries(result.changed).map(([id, code]) => [index.get(id), code]));
  wangge.lastFixMs = performance.now() - started;
  banner('');
  $('timing').textContent = t('plan.fix_time', { ms: Math.round(wangge.lastFixMs) });
}

// ---- saving, files, apply ----------------------------------------------------------

async function save() {
  const body = {
    version: state.version,
    assignment: state.draft.assignment(state.data.buildings),
    locked: [...state.draft.locked],
  };
  banner(t('plan.saving'), 'ok');
  $('save').disabled = true;
  try {
    const saved = await sendJSON('PUT', `/api/plans/${state.planId}/assignment`, body, idempotent());
    state.version = saved.version;
    state.dirty = false;
    drawGrids(saved.grids);
    state.data.grids = saved.grids;
    await loadWorkers();
    banner(t('plan.saved', { version: saved.version }), 'ok');
    renderPanel();
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) banner(t('plan.conflict'), 'error', true);
    else banner(error.message);
  } finally {
    $('save').disabled = false;
  }
}

async function importFile() {
  const file = $('import').files[0];
  if (!file) return;
  const form = new FormData();
  form.append('file', file);
  try {
    await postForm(`/api/plans/${state.planId}/import?version=${state.version}`, form, idempotent());
    await loadDraft();
    banner(t('plan.imported'), 'ok');
  } catch (error) {
    banner(error.status === 409 ? t('plan.conflict') : error.message, 'error', error.status === 409);
  }
  $('import').value = '';
}

async function applyPlan() {
  if (state.dirty) {
    banner(t('plan.save_first'));
    return;
  }
  const validFrom = $('valid-from').value;
  if (!validFrom) {
    banner(t('plan.need_date'));
    return;
  }
  try {
    const result = await sendJSON('POST', `/api/plans/${state.planId}/apply`, { valid_from: validFrom, assignments: workerOverrides() }, idempotent());
    banner(t('plan.applied', { grids: result.grids_created.length, date: validFrom }), 'ok');
    wangge.applied = result;
  } catch (error) {
    banner(error.message);
  }
}

function toggleCompare() {
  const pane = $('map-current');
  pane.hidden = !pane.hidden;
  if (!pane.hidden && !state.currentMap) {
    const other = L.map('map-current', { preferCanvas: true });
    L.geoJSON(state.data.current, {
      style: { color: '#5f6368', weight: 2, fillOpacity: 0.15 },
      onEachFeature: (feature, layer) => layer.bindTooltip(feature.properties.code.slice(12), { permanent: true }),
    }).addTo(other);
    let syncing = false;
    const sync = (from, to) => from.on('move', () => {
      if (syncing) return;
      syncing = true;
      to.setView(from.getCenter(), from.getZoom(), { animate: false });
      syncing = false;
    });
    sync(map, other);
    sync(other, map);
    state.currentMap = other;
    wangge.currentMap = other;
  }
  map.invalidateSize();
  if (state.currentMap) {
    state.currentMap.invalidateSize();
    state.currentMap.setView(map.getCenter(), map.getZoom(), { animate: false });
  }
}

function wire() {
  $('user-name').textContent = config.user.display_name;
  $('lang-toggle').addEventListener('click', toggleLanguage);
  onLanguageChange(() => { if (state.draft) renderPanel(); });
  $('propose').addEventListener('click', () => propose().catch((e) => banner(e.message)));
  for (const button of document.querySelectorAll('.mode')) {
    button.addEventListener('click', () => setMode(button.dataset.mode));
  }
  $('undo').addEventListener('click', undo);
  $('redo').addEventListener('click', redo);
  $('next-problem').addEventListener('click', nextProblem);
  $('fix-grid').addEventListener('click', () => fixGrid().catch((e) => banner(e.message)));
  $('save').addEventListener('click', save);
  $('compare').addEventListener('click', toggleCompare);
  $('import').addEventListener('change', importFile);
  $('apply').addEventListener('click', applyPlan);
  $('reload').addEventListener('click', () => loadDraft().then(() => banner('')));
}

async function start() {
  applyTranslations();
  fillCommunities();
  wire();
  map.setView([40.6, 109.8], 12);
  if (state.planId) await loadDraft();
  wangge.state = state;
  // For tests and benchmarks: the same move a click or lasso makes ([index, grid] pairs).
  wangge.move = (changes) => move(changes).length;
}

start().then(resolveReady, (error) => { banner(error.message); resolveReady(); });
