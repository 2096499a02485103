// The field app (/m/): log in once (a long-lived device session, its token in IndexedDB),
// then the inbox of my tasks — cached for offline, live over the stream, urgent ones
// ringing full screen — the task page, the 网格包 and the outbox of unsent actions.
import { fill, h } from '../dom.js';
import { applyTranslations, label, onLanguageChange, t, toggleLanguage } from '../i18n.js';
import { toast } from '../toast.js';
import { Alarm } from './alarm.js';
import { GridPack } from './gridpack.js';
import { api, dropSession, loadSession, saveSession, whenLoggedOut } from './net.js';
import { Outbox } from './outbox.js';
import { pushSupported, subscribePush } from './push.js';
import { FieldStream } from './stream.js';
import { TaskStore } from './tasks.js';
import { TaskView } from './taskview.js';

const $ = (id) => document.getElementById(id);
const field = { ready: null, user: null };
window.wanggeField = field;

function registerServiceWorker() {
  // Secure origins only (HTTPS or localhost): elsewhere the app still works online.
  if ('serviceWorker' in navigator && window.isSecureContext) {
    field.serviceWorker = navigator.serviceWorker.register('/m/sw.js', { scope: '/m/' }).catch(() => null);
  }
}

function showLogin() {
  $('main-view').hidden = true;
  $('login-view').hidden = false;
}

async function login(event) {
  event.preventDefault();
  const error = $('login-error');
  error.hidden = true;
  $('f-login').disabled = true;
  try {
    const response = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'omit',
      body: JSON.stringify({ username: $('f-username').value.trim(), password: $('f-password').value, device: true }),
    });
    if (!response.ok) {
      error.textContent = t(response.status === 401 ? 'login.wrong' : 'login.failed', { status: response.status });
      error.hidden = false;
      return;
    }
    const body = await response.json();
    await saveSession(body.access_token, body.user);
    // Logged in again after the session ended mid-use: start clean (one outbox, one stream).
    if (field.user) window.location.reload();
    else await startApp(body.user);
  } catch {
    error.textContent = t('login.unreachable');
    error.hidden = false;
  } finally {
    $('f-login').disabled = false;
  }
}

function shouldRing(task, user) {
  if (task.urgency !== 'urgent' || task.pending) return false;
  if (task.state === 'dispatched' || task.state === 'reopened') return task.assignee_id === user.worker_id;
  return task.state === 'escalated' && user.worker_id !== null;
}

function describe(task) {
  const place = task.lon != null ? `${task.lon.toFixed(5)}, ${task.lat.toFixed(5)}` : '';
  return { title: task.title, place: [label('category', task.category), task.grid_code, place].filter(Boolean).join(' · ') };
}

function renderInbox(store) {
  const items = store.sorted();
  $('inbox-empty').hidden = items.length > 0;
  fill(
    $('inbox-list'),
    ...items.map((task) =>
      h(
        'li',
        { class: `fcard task ${task.urgency}`, dataset: { id: task.id, state: task.state }, onclick: () => openTask(task.id) },
        h('h3', {}, task.title),
        h(
          'p',
          {},
          h('span', { class: 'chip state', dataset: { state: task.state } }, label('state', task.state)),
          task.pending ? h('span', { class: 'chip pending' }, t('field.waiting_send')) : null,
          ` #${task.id} · ${label('category', task.category)}`,
        ),
      ),
    ),
  );
}

async function renderConflicts() {
  const items = await field.outbox.items();
  $('outbox-count').textContent = String(items.filter((i) => !i.conflict).length);
  $('net-status').textContent = items.length ? t('field.outbox_n', { n: items.filter((i) => !i.conflict).length }) : '';
  fill(
    $('conflicts'),
    ...items
      .filter((item) => item.conflict)
      .map((item) =>
        h(
          'div',
          { class: 'conflict', dataset: { seq: item.seq, status: item.conflict.status } },
          h('strong', {}, t('field.conflict', { action: t(`field.kind_${item.kind}`), id: item.taskId ?? '' })),
          h('p', {}, item.conflict.detail),
          h(
            'button',
            {
              type: 'button',
              onclick: async () => {
                await field.outbox.dismiss(item.seq);
                await refresh();
              },
            },
            t('field.dismiss'),
          ),
        ),
      ),
  );
}

function showView(name) {
  for (const view of ['inbox', 'task', 'gridpack', 'me']) $(`${view}-view`).hidden = view !== name;
  for (const tab of document.querySelectorAll('.ftabs button')) {
    tab.classList.toggle('active', tab.dataset.view === name || (name === 'task' && tab.dataset.view === 'inbox'));
  }
  if (name === 'gridpack') field.gridpack.show();
}

function openTask(id) {
  const task = field.tasks.tasks.get(id);
  if (!task) return;
  showView('task');
  field.taskView.show(task);
}

async function refresh() {
  try {
    await field.tasks.refresh();
  } catch {
    // offline: the cached tasks stay
  }
}

function ringIfUrgent() {
  if (field.alarm.showing) return;
  const urgent = field.tasks.sorted().find((task) => shouldRing(task, field.user) && !field.alarm.viewed.has(task.id));
  if (!urgent) return;
  field.alarm.show(urgent);
  // The "seen" receipt of the urgent ladder; an API without it (404) is fine.
  api(`/api/tasks/${urgent.id}/seen`, { method: 'POST', json: {} }).catch(() => {});
}

function setupPush() {
  if (!pushSupported()) return;
  const show = (state) => {
    $('push-state').textContent = t(`field.push_${state}`);
    $('push-enable').hidden = state === 'on' || state === 'unavailable';
  };
  $('push-enable').hidden = false;
  $('push-enable').addEventListener('click', () => subscribePush({ ask: true }).then(show, () => show('unavailable')));
  // Allowed before on this phone: subscribe this session too (a new login, a new session).
  subscribePush({ ask: false }).then(show, () => {});
}

function setNetState() {
  $('net-status').dataset.state = navigator.onLine ? 'online' : 'offline';
  document.body.classList.toggle('offline', !navigator.onLine);
}

async function startApp(user) {
  field.user = user;
  $('login-view').hidden = true;
  $('main-view').hidden = false;
  $('me-name').textContent = user.display_name;
  $('me-role').textContent = label('role', user.role);
  field.tasks = new TaskStore(() => {
    renderInbox(field.tasks);
    field.taskView?.refresh();
    ringIfUrgent();
  });
  field.outbox = new Outbox({
    onSent: async (item, answer) => {
      if (item.kind === 'checkin' && answer.distance_m !== null) {
        toast(t(answer.on_site ? 'field.checked_in' : 'field.checked_in_far', { m: Math.round(answer.distance_m) }));
      }
      if (item.taskId !== null) await field.tasks.settle(item.taskId, answer);
    },
    onConflict: async (item) => {
      toast(t('field.conflict', { action: t(`field.kind_${item.kind}`), id: item.taskId ?? '' }), 'urgent');
      if (item.taskId !== null) await field.tasks.clearPending(item.taskId);
      await refresh();
    },
    onChange: () => renderConflicts(),
  });
  field.alarm = new Alarm({
    describe,
    onAccept: async (task) => {
      await field.outbox.add({ kind: 'accept', taskId: task.id, url: `/api/tasks/${task.id}/accept`, json: {} });
      await field.tasks.markPending(task.id, 'accepted');
      openTask(task.id);
    },
    onView: (task) => openTask(task.id),
  });
  field.taskView = new TaskView({
    element: $('task-view'),
    user,
    outbox: field.outbox,
    tasks: field.tasks,
    onBack: () => showView('inbox'),
  });
  field.gridpack = new GridPack({ element: $('gridpack-view'), outbox: field.outbox });
  onLanguageChange(() => {
    renderInbox(field.tasks);
    field.taskView.refresh({ force: true });
    renderConflicts();
  });
  await field.tasks.loadCached();
  field.stream = new FieldStream({
    onMessage: (kind, message) => {
      if (kind === 'task') field.tasks.apply(message).catch(() => refresh());
    },
    onResync: () => refresh(),
    onState: (state) => {
      $('live-status').dataset.state = state;
      $('live-status').querySelector('.live-text').textContent = t(`live.${state}`);
    },
  });
  field.stream.start();
  window.addEventListener('online', () => {
    setNetState();
    field.stream.reconnect();
    refresh();
  });
  window.addEventListener('offline', setNetState);
  setNetState();
  field.outbox.start();
  setupPush();
  await refresh();
}

async function boot() {
  applyTranslations();
  document.title = t('field.app_name');
  $('lang-toggle').addEventListener('click', () => {
    toggleLanguage();
    document.title = t('field.app_name');
  });
  $('login-view').addEventListener('submit', login);
  for (const tab of document.querySelectorAll('.ftabs button')) tab.addEventListener('click', () => showView(tab.dataset.view));
  $('logout').addEventListener('click', async () => {
    await api('/api/auth/logout', { method: 'POST' }).catch(() => {});
    await dropSession();
    window.location.reload();
  });
  whenLoggedOut(() => showLogin());
  registerServiceWorker();
  const user = await loadSession();
  if (user) await startApp(user);
  else showLogin();
}

field.ready = boot();
