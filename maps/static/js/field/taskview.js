// One task on the phone: what and where (a small map, distance and bearing from me,
// navigate with AMap or Baidu), and the moves I may make — accept, start, check in on
// site, report with notes and photos, and for the desk (cadres) the evaluation that
// reopens a task for 二次办理. Every move goes through the outbox.
import { createMap } from '../basemap.js';
import { config } from '../config.js';
import { fill, h } from '../dom.js';
import { formatDue, formatTime } from '../format.js';
import { label, t } from '../i18n.js';
import { bearingDeg, compassKey, distanceM, myPosition, navigationLinks } from './geo.js';
import { reportPhotoBytes, shrinkPhoto } from '../photo.js';

const ACTIONS = new Map(config.actions.map((a) => [a.name, a]));

function allowed(name, task) {
  return ACTIONS.get(name)?.from_states.includes(task.state) ?? false;
}

export class TaskView {
  constructor({ element, user, outbox, tasks, onBack }) {
    this.element = element;
    this.user = user;
    this.outbox = outbox;
    this.tasks = tasks;
    this.onBack = onBack;
    this.task = null;
    this.map = null;
    this.here = null;
  }

  get isDesk() {
    return config.desk_roles.includes(this.user.role);
  }

  get isMine() {
    return this.user.role === 'admin' || (this.task && this.task.assignee_id === this.user.worker_id);
  }

  show(task) {
    this.task = task;
    this.render();
    this.locate();
  }

  /** Show the stored task's latest; ``force`` draws it again even if nothing changed. */
  refresh({ force = false } = {}) {
    if (!this.task) return;
    const fresh = this.tasks.tasks.get(this.task.id);
    if (!fresh) return;
    // Drawn again only when what it shows changed: the stream often repeats what an
    // answer already said, and a new drawing would drop a report being typed.
    const shown = this.task;
    this.task = fresh;
    const same = ['state', 'pending', 'assignee_id', 'urgency', 'title'].every((key) => shown[key] === fresh[key]);
    if (force || !same) this.render();
  }

  place() {
    return this.task.lon != null ? [this.task.lon, this.task.lat] : null;
  }

  async locate() {
    try {
      const [lon, lat, accuracy] = await myPosition();
      this.here = [lon, lat, accuracy];
      this.renderWhere();
    } catch {
      this.here = null;
    }
  }

  render() {
    const task = this.task;
    this.map?.remove();
    this.map = null;
    const due = formatDue(task.due_at);
    fill(
      this.element,
      h('button', { type: 'button', class: 'ghost back', onclick: () => this.onBack() }, t('field.back')),
      h(
        'div',
        { class: `fcard task ${task.urgency}` },
        h('h2', {}, task.title),
        h(
          'p',
          { class: 'facts' },
          h('span', { class: 'chip state', dataset: { state: task.state } }, label('state', task.state)),
          task.pending ? h('span', { class: 'chip pending' }, t('field.waiting_send')) : null,
          ` #${task.id} · ${label('category', task.category)} · ${formatTime(task.created_at)}`,
          due ? ` · ${due}` : null,
        ),
        task.description ? h('p', {}, task.description) : null,
      ),
      h('div', { id: 'task-map', class: 'task-map' }),
      h('p', { id: 'task-where', class: 'where' }),
      h('p', { id: 'task-nav', class: 'nav-links' }),
      h('div', { id: 'task-actions', class: 'actions' }, ...this.actions()),
      h('p', { id: 'checkin-result', class: 'muted' }),
    );
    this.drawMap();
    this.renderWhere();
  }

  drawMap() {
    const place = this.place();
    if (!place || typeof L === 'undefined') return;
    this.map = createMap(document.getElementById('task-map'));
    this.map.setView([place[1], place[0]], 16);
    L.circleMarker([place[1], place[0]], { radius: 9, color: '#d93025', fillOpacity: 0.8 }).addTo(this.map);
    if (this.here) L.circleMarker([this.here[1], this.here[0]], { radius: 6, color: '#1a73e8' }).addTo(this.map);
  }

  renderWhere() {
    const place = this.place();
    const where = document.getElementById('task-where');
    const nav = document.getElementById('task-nav');
    if (!where || !place) return;
    if (this.here) {
      const metres = distanceM(this.here, place);
      const bearing = bearingDeg(this.here, place);
      where.dataset.distance = String(Math.round(metres));
      where.textContent = t('field.distance', {
        d: metres < 1000 ? `${Math.round(metres)} m` : `${(metres / 1000).toFixed(1)} km`,
        dir: t(compassKey(bearing)),
        deg: Math.round(bearing),
      });
    } else {
      where.textContent = t('field.no_position');
    }
    const links = navigationLinks(place, this.task.title);
    fill(
      nav,
      h('a', { href: links.amap, target: '_blank', rel: 'noopener', class: 'nav amap' }, t('field.nav_amap')),
      h('a', { href: links.baidu, target: '_blank', rel: 'noopener', class: 'nav baidu' }, t('field.nav_baidu')),
    );
  }

  button(action, text, onclick, kind = '') {
    return h('button', { type: 'button', class: `big ${kind}`, dataset: { action }, onclick }, text);
  }

  actions() {
    const task = this.task;
    const out = [];
    if (allowed('accept', task) && (this.isMine || task.state === 'escalated')) {
      out.push(this.button('accept', t('field.accept'), () => this.act('accept', 'accepted'), 'primary'));
    }
    if (this.isMine && allowed('start', task)) {
      out.push(this.button('start', t('action.start'), () => this.act('start', 'in_progress')));
    }
    if (this.isMine && ['accepted', 'in_progress'].includes(task.state)) {
      out.push(this.button('checkin', t('field.checkin'), () => this.checkin()));
      out.push(this.reportForm());
    }
    if (this.isDesk && allowed('evaluate', task)) {
      out.push(this.button('evaluate-ok', t('field.evaluate_ok'), () => this.evaluate(true)));
      out.push(this.button('reopen', t('field.reopen'), () => this.evaluate(false), 'warn'));
    }
    return out;
  }

  async act(name, expected, json = {}) {
    await this.outbox.add({ kind: name, taskId: this.task.id, url: `/api/tasks/${this.task.id}/${name}`, json });
    await this.tasks.markPending(this.task.id, expected);
    this.refresh();
  }

  async evaluate(satisfied) {
    const note = satisfied ? null : t('field.reopen_note');
    await this.act('evaluate', satisfied ? 'closed' : 'reopened', { satisfied, note });
  }

  async checkin() {
    const out = document.getElementById('checkin-result');
    out.textContent = t('field.locating');
    try {
      const [lon, lat, accuracy] = await myPosition();
      this.here = [lon, lat, accuracy];
      this.renderWhere();
      await this.outbox.add({
        kind: 'checkin',
        taskId: this.task.id,
        url: `/api/tasks/${this.task.id}/checkin`,
        json: { lon, lat, accuracy_m: accuracy },
      });
      out.textContent = t('field.checkin_queued');
    } catch {
      out.textContent = t('field.no_position');
    }
  }

  reportForm() {
    const note = h('textarea', { 'data-field': 'note', rows: 3, maxlength: 2000, placeholder: t('field.report_note') });
    const photos = h('input', { type: 'file', accept: 'image/*', capture: 'environment', multiple: true, 'data-field': 'photo' });
    const status = h('p', { class: 'muted', 'data-field': 'status' });
    const submit = h('button', { type: 'submit', class: 'big primary', 'data-submit': 'report' }, t('field.report_send'));
    const form = h(
      'form',
      { class: 'report', 'data-form': 'report' },
      h('label', {}, t('field.report_title'), note),
      h('label', {}, t('field.report_photos'), photos),
      status,
      submit,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!note.value.trim()) {
        status.textContent = t('field.report_need_note');
        return;
      }
      submit.disabled = true;
      const task = this.task;
      const files = [...photos.files];
      if (task.state === 'accepted') {
        await this.outbox.add({ kind: 'start', taskId: task.id, url: `/api/tasks/${task.id}/start`, json: {} });
      }
      // The text goes first, at once; the photos follow as their own action (shrunk, then
      // resumable uploads, then attached): on a slow link the report arrives in seconds.
      await this.outbox.add({ kind: 'report', taskId: task.id, url: `/api/tasks/${task.id}/report`, json: { note: note.value.trim() } });
      await this.tasks.markPending(task.id, 'handled');
      this.refresh();
      if (files.length) {
        status.textContent = t('field.shrinking');
        const budget = reportPhotoBytes(files.length);
        const shrunk = [];
        for (const file of files) shrunk.push(await shrinkPhoto(file, budget));
        await this.outbox.add({ kind: 'photos', taskId: task.id, url: `/api/tasks/${task.id}/photos`, json: {}, photos: shrunk });
        status.textContent = '';
      }
    });
    return form;
  }
}
