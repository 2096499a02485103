// One grid: its state, households, workers and open tasks (GET /api/grids/{code}).
import { ApiError, getJSON } from './api.js';
import { fill, h } from './dom.js';
import { formatDue } from './format.js';
import { label, onLanguageChange, t } from './i18n.js';

export class GridPanel {
  constructor({ grids, onTask }) {
    this.grids = grids;
    this.onTask = onTask;
    this.element = document.getElementById('grid-detail');
    this.code = null;
    this.grid = null;
    onLanguageChange(() => this.grid && this.render());
  }

  async show(code) {
    this.code = code;
    this.grids.select(code);
    fill(this.element, h('p', { class: 'hint' }, t('form.loading')));
    try {
      const grid = await getJSON(`/api/grids/${code}`);
      if (this.code !== code) return;
      this.grid = grid;
      this.render();
    } catch (error) {
      if (this.code !== code) return;
      const text = error instanceof ApiError ? error.detail : error.message;
      fill(this.element, h('p', { class: 'error', role: 'alert' }, text));
    }
  }

  /** After a live change in this grid: fetch its counts and task list again. */
  changed(code) {
    if (code === this.code) this.show(code);
  }

  render() {
    const p = this.grid.properties;
    const state = this.grids.displayState(p);
    const fact = (key, value) => [h('dt', {}, t(key)), h('dd', {}, String(value))];
    fill(this.element,
      h('h2', { class: 'detail-title' }, p.name),
      h('div', { class: 'chips' },
        h('span', { class: `chip grid-state grid-${state}`, 'data-grid-state': state }, label('grid', state)),
        h('span', { class: 'chip code' }, p.code)),
      h('dl', { class: 'facts' },
        ...fact('grid.households', p.households),
        ...fact('grid.target', p.household_target),
        ...fact('grid.buildings', p.buildings),
        ...fact('grid.open_tasks', p.open_tasks),
        ...fact('grid.urgent_tasks', p.urgent_tasks),
        ...fact('grid.community', p.community_code)),
      h('h3', {}, t('grid.workers')),
      p.workers.length
        ? h('ul', { class: 'workers' }, ...p.workers.map((w) => h('li', {},
            h('span', { class: 'worker-name' }, w.name),
            h('span', { class: 'role' }, label('role', w.role)),
            w.phone ? h('span', { class: 'phone' }, w.phone) : null)))
        : h('p', { class: 'hint' }, t('grid.no_workers')),
      h('h3', {}, t('grid.tasks')),
      p.open_task_list.length
        ? h('ul', { class: 'grid-tasks' }, ...p.open_task_list.map((task) => h('li', {
            class: `task-row ${task.urgency}`, dataset: { id: task.id }, onclick: () => this.onTask(task.id) },
            h('div', { class: 'row-top' },
              h('span', { class: `badge ${task.urgency}` }, label('urgency', task.urgency)),
              h('span', { class: 'row-title' }, task.title)),
            h('div', { class: 'row-meta' },
              h('span', {}, `#${task.id}`),
              h('span', {}, label('state', task.state)),
              task.due_at ? h('span', {}, formatDue(task.due_at)) : null))))
        : h('p', { class: 'hint' }, t('grid.no_tasks')),
    );
  }
}
