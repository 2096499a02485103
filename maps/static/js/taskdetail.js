// One task: its facts, the buttons the user may press, its history and photos.
import { ApiError, getJSON } from './api.js';
import { fill, h } from './dom.js';
import { formatDue, formatTime } from './format.js';
import { label, onLanguageChange, t } from './i18n.js';
import { isOpen, isOverdue } from './taskstore.js';
import { actionButtons } from './taskactions.js';
import { toast } from './toast.js';

/** Nothing to redraw (an open form keeps what the user typed): e.g. the echo of one's own move. */
function unchanged(a, b) {
  return Boolean(a) && ['state', 'updated_at', 'assignee_id', 'escalation_level'].every((k) => a[k] === b[k])
    && a.transitions.length === b.transitions.length;
}

function errorText(error) {
  if (!(error instanceof ApiError)) return error.message;
  if (error.status === 409) return t('error.conflict', { detail: error.detail });
  if (error.status === 403) return t('error.forbidden', { detail: error.detail });
  return t('error.failed', { status: error.status, detail: error.detail });
}

export class TaskDetail {
  constructor({ store, onClose, onGrid, onChanged }) {
    this.store = store;
    this.onClose = onClose;
    this.onGrid = onGrid;
    this.onChanged = onChanged;
    this.element = document.getElementById('task-detail');
    this.id = null;
    this.task = null;
    this.error = null;
    onLanguageChange(() => this.task && this.render());
  }

  async open(id) {
    this.id = Number(id);
    this.task = null;
    this.error = null;
    this.element.hidden = false;
    fill(this.element, h('p', { class: 'hint' }, t('form.loading')));
    await this.reload();
  }

  close() {
    this.id = null;
    this.task = null;
    this.element.hidden = true;
    this.onClose();
  }

  async reload() {
    const id = this.id;
    try {
      const task = await getJSON(`/api/tasks/${id}`);
      if (this.id !== id || unchanged(this.task, task)) return;
      this.task = task;
      this.store.put(task);
    } catch (error) {
      if (this.id !== id) return;
      if (error instanceof ApiError && error.status === 404) {
        toast(t('toast.task_gone', { id }));
        this.close();
        return;
      }
      this.error = errorText(error);
    }
    this.render();
  }

  /** A live change of the open task: show the new state (someone else may have moved it). */
  changed(id) {
    if (this.id === Number(id)) this.reload();
  }

  run(promise, action) {
    this.error = null;
    promise.then(
      (result) => {
        toast(t('toast.done', { action: label('action', action.name), id: this.id }), 'ok');
        if (!result.transitions) {
          // The move took the task out of this user's view (e.g. returned to the desk).
          this.store.put({ id: result.id, state: result.state });
          this.onChanged();
          this.close();
          return;
        }
        this.task = result;
        this.store.put(result);
        this.onChanged();
        this.render();
      },
      (error) => {
        // Only the message changes: an open form keeps what the user typed.
        this.error = errorText(error);
        const element = this.element.querySelector('.action-error');
        element.textContent = this.error;
        element.hidden = false;
      },
    );
  }

  fact(key, ...value) {
    return [h('dt', {}, t(key)), h('dd', {}, ...value)];
  }

  history(task) {
    return h('ol', { class: 'history' }, ...task.transitions.map((step) => h('li', {},
      h('span', { class: 'when' }, formatTime(step.at)),
      h('span', { class: 'what' }, `${step.from_state ? label('state', step.from_state) : '∅'} → ${label('state', step.to_state)}`),
      h('span', { class: 'who' }, step.actor),
      step.note ? h('div', { class: 'note' }, step.note) : null)));
  }

  /** The urgent ladder: per recipient and channel, when it was sent, seen and accepted, and
   * how long each step took after the message was queued (docs/channels.md). */
  deliveries(task) {
    const after = (from, at) => (at ? `${formatTime(at)} (+${Math.max(0, Math.round((Date.parse(at) - Date.parse(from)) / 1000))} s)` : t('delivery.none'));
    return h('table', { class: 'deliveries' },
      h('thead', {}, h('tr', {}, ...['delivery.who', 'delivery.channel', 'delivery.step', 'delivery.sent', 'delivery.seen', 'delivery.accepted']
        .map((key) => h('th', {}, t(key))))),
      h('tbody', {}, ...task.deliveries.map((d) => h('tr', { 'data-worker': d.worker_id, 'data-channel': d.channel, 'data-state': d.state },
        h('td', {}, d.worker_id),
        h('td', {}, `${d.channel} · ${t(`delivery.state.${d.state}`)}${d.error ? ` (${d.error})` : ''}`),
        h('td', {}, t(`delivery.step.${d.step}`)),
        h('td', {}, after(d.created_at, d.sent_at)),
        h('td', {}, after(d.created_at, d.seen_at)),
        h('td', {}, after(d.created_at, d.acknowledged_at))))));
  }

  render() {
    const task = this.task;
    const head = h('div', { class: 'detail-head' },
      h('button', { type: 'button', class: 'ghost back', onclick: () => this.close() }, t('detail.back')));
    if (!task) {
      fill(this.element, head, h('p', { class: 'error', role: 'alert' }, this.error || ''));
      return;
    }
    const now = Date.now();
    const due = isOpen(task) ? formatDue(task.due_at, now) : null;
    fill(this.element,
      head,
      h('h2', { class: 'detail-title' }, task.title),
      h('div', { class: 'chips' },
        h('span', { class: `badge ${task.urgency}` }, label('urgency', task.urgency)),
        h('span', { class: `chip state state-${task.state}`, 'data-state': task.state }, label('state', task.state)),
        isOverdue(task, now) ? h('span', { class: 'chip overdue' }, t('filter.overdue')) : null),
      h('dl', { class: 'facts' },
        ...this.fact('detail.id', `#${task.id}`),
        ...this.fact('detail.category', label('category', task.category)),
        ...this.fact('detail.grid', task.grid_code
          ? h('a', { href: '#', onclick: (e) => { e.preventDefault(); this.onGrid(task.grid_code); } }, task.grid_code)
          : '—'),
        ...this.fact('detail.assignee', task.assignee_name ? `${task.assignee_name} (${task.assignee_id})` : '—'),
        ...this.fact('detail.due', task.due_estimated
          ? `${due ?? formatTime(task.due_at)} (${t('detail.due_estimated')})`
          : due ?? formatTime(task.due_at)),
        ...this.fact('detail.created', formatTime(task.created_at)),
        ...this.fact('detail.level', label('escalation', task.escalation_level))),
      task.description ? h('p', { class: 'description' }, task.description) : null,
      actionButtons(task, (promise, action) => this.run(promise, action)),
      h('p', { class: 'error action-error', role: 'alert', hidden: !this.error }, this.error || ''),
      task.photos.length ? h('div', { class: 'photos' }, ...task.photos.map((src) => h('a', { href: src, target: '_blank' }, h('img', { src, alt: t('detail.photo') })))) : null,
      task.deliveries?.length ? h('h3', {}, t('detail.deliveries')) : null,
      task.deliveries?.length ? this.deliveries(task) : null,
      h('h3', {}, t('detail.history')),
      this.history(task),
    );
  }
}
