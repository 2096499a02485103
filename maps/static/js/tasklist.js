// The task list with its filters (type and state); the same filter decides which task
// markers the map shows.
import { config } from './config.js';
import { fill, h } from './dom.js';
import { formatDue } from './format.js';
import { label, language, onLanguageChange, t } from './i18n.js';
import { isOpen, isOverdue, TASK_CAP } from './taskstore.js';

const LIST_LIMIT = 300;
const RENDER_EVERY_MS = 300; // during a burst of live changes the list redraws this often
const GROUPS = ['open', 'urgent', 'overdue'];

export class TaskList {
  constructor(store, { onSelect, onFilter }) {
    this.store = store;
    this.onSelect = onSelect;
    this.onFilter = onFilter;
    this.category = '';
    this.state = 'open';
    this.selected = null;
    this.lastRender = 0;
    this.timer = null;
    this.list = document.getElementById('task-list');
    this.summary = document.getElementById('task-count');
    this.categorySelect = document.getElementById('filter-category');
    this.stateSelect = document.getElementById('filter-state');
    this.categorySelect.addEventListener('change', () => this.setFilter({ category: this.categorySelect.value }));
    this.stateSelect.addEventListener('change', () => this.setFilter({ state: this.stateSelect.value }));
    onLanguageChange(() => this.render());
  }

  setFilter({ category = this.category, state = this.state }) {
    this.category = category;
    this.state = state;
    this.render();
    this.onFilter();
  }

  matches(task, now) {
    if (this.category && task.category !== this.category) return false;
    switch (this.state) {
      case 'open':
        return isOpen(task);
      case 'urgent':
        return isOpen(task) && task.urgency === 'urgent';
      case 'overdue':
        return isOverdue(task, now);
      case 'done':
        return !isOpen(task);
      default:
        return task.state === this.state;
    }
  }

  /** The tasks the filters let through: urgent first, then overdue, then the newest. */
  filtered(now = Date.now()) {
    const rank = (task) => (task.urgency === 'urgent' && isOpen(task) ? 0 : 2) + (isOverdue(task, now) ? 0 : 1);
    return [...this.store.values()]
      .filter((task) => this.matches(task, now))
      .sort((a, b) => rank(a) - rank(b) || b.id - a.id);
  }

  /** Rebuilt only when the categories or the language change, so an open select stays open. */
  renderOptions() {
    const categories = new Set(config.categories);
    for (const task of this.store.values()) categories.add(task.category);
    const signature = `${language()}|${[...categories].join(',')}`;
    if (signature === this.optionsSignature) return;
    this.optionsSignature = signature;
    const option = (value, text, selected) => h('option', { value, selected }, text);
    fill(this.categorySelect,
      option('', t('filter.all_categories'), this.category === ''),
      ...[...categories].map((c) => option(c, label('category', c), c === this.category)),
    );
    const states = [...GROUPS.map((g) => [g, t(`filter.${g}`)])];
    for (const state of config.task_states) if (config.open_states.includes(state)) states.push([state, label('state', state)]);
    states.push(['done', t('filter.done')]);
    fill(this.stateSelect, ...states.map(([value, text]) => option(value, text, value === this.state)));
  }

  row(task, now) {
    const due = isOpen(task) ? formatDue(task.due_at, now) : null;
    const overdue = isOverdue(task, now);
    const classes = ['task-row', task.urgency, overdue && 'overdue', !isOpen(task) && 'done', task.id === this.selected && 'selected'];
    return h(
      'li',
      { class: classes.filter(Boolean).join(' '), dataset: { id: task.id }, onclick: () => this.onSelect(task.id) },
      h('div', { class: 'row-top' },
        h('span', { class: `badge ${task.urgency}` }, label('urgency', task.urgency)),
        h('span', { class: 'row-title' }, task.title)),
      h('div', { class: 'row-meta' },
        h('span', {}, `#${task.id}`),
        h('span', { class: `state state-${task.state}` }, label('state', task.state)),
        h('span', {}, label('category', task.category)),
        task.assignee_name || task.assignee_id ? h('span', {}, task.assignee_name || task.assignee_id) : null,
        due ? h('span', { class: overdue ? 'due over' : 'due' }, due) : null),
    );
  }

  /** Renders now, or once RENDER_EVERY_MS have passed since the last time. */
  renderSoon() {
    if (this.timer !== null) return;
    const wait = this.lastRender + RENDER_EVERY_MS - performance.now();
    if (wait <= 0) {
      this.render();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.render();
    }, wait);
  }

  render(tasks = this.filtered()) {
    const now = Date.now();
    this.lastRender = performance.now();
    this.renderOptions();
    fill(this.list, ...tasks.slice(0, LIST_LIMIT).map((task) => this.row(task, now)));
    const parts = [t('tasks.count', { n: tasks.length })];
    if (tasks.length > LIST_LIMIT) parts.push(t('tasks.showing', { n: LIST_LIMIT }));
    if (this.store.truncated) parts.push(t('tasks.truncated', { n: TASK_CAP }));
    this.summary.textContent = parts.join(' · ');
  }
}
