// 网格包: the households of my grid(s), special groups (独居老人, 低保, 残疾, 退役军人)
// first, their residents with masked ID numbers, the last 走访 visit, and a form to add
// one. Personal data stays in memory only — never written to the phone's storage — and
// the server audits every read.
import { config } from '../config.js';
import { fill, h } from '../dom.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { api } from './net.js';

export class GridPack {
  constructor({ element, outbox }) {
    this.element = element;
    this.outbox = outbox;
    this.tag = null;
    this.data = null;
  }

  async show() {
    fill(this.element, h('p', { class: 'muted' }, t('field.loading')));
    const query = this.tag ? `?tag=${encodeURIComponent(this.tag)}` : '';
    try {
      this.data = await api(`/api/field/gridpack${query}`);
    } catch {
      fill(this.element, h('p', { class: 'error' }, t('field.gridpack_offline')));
      return;
    }
    this.render();
  }

  render() {
    const { grids, special_groups: groups, households } = this.data;
    fill(
      this.element,
      h('p', { class: 'grids' }, grids.map((g) => `${g.name} (${g.code})`).join(' · ') || t('field.no_grid')),
      h(
        'div',
        { class: 'groups' },
        h('button', { type: 'button', class: this.tag ? '' : 'active', onclick: () => this.filter(null) }, t('field.all_households')),
        ...config.special_groups.map((name) =>
          h(
            'button',
            { type: 'button', class: this.tag === name ? 'active' : '', dataset: { tag: name }, onclick: () => this.filter(name) },
            `${name} ${groups[name] ?? 0}`,
          ),
        ),
      ),
      h('ul', { class: 'cards households' }, ...households.map((household) => this.card(household))),
      this.data.truncated ? h('p', { class: 'muted' }, t('field.gridpack_truncated', { n: households.length })) : null,
    );
  }

  filter(tag) {
    this.tag = tag;
    this.show();
  }

  card(household) {
    const visit = household.last_visit;
    return h(
      'li',
      { class: 'fcard household', dataset: { id: household.id } },
      h('h3', {}, `${household.building_name || ''} ${household.unit ?? ''}-${household.room ?? ''}`),
      h('p', { class: 'tags' }, ...(household.tags || []).map((tag) => h('span', { class: 'chip tag' }, tag))),
      h(
        'ul',
        { class: 'residents' },
        ...household.residents.map((r) =>
          h('li', {}, `${r.name} · ${r.birth_year ?? ''} · `, h('span', { class: 'id-number' }, r.id_number ?? '—')),
        ),
      ),
      h(
        'p',
        { class: 'muted' },
        visit
          ? t('field.last_visit', { at: formatTime(visit.at), outcome: t(`field.outcome_${visit.outcome}`) })
          : t('field.never_visited'),
      ),
      this.visitForm(household),
    );
  }

  visitForm(household) {
    const outcome = h(
      'select',
      { 'data-field': 'outcome' },
      ...config.visit_outcomes.map((value) => h('option', { value }, t(`field.outcome_${value}`))),
    );
    const note = h('input', { 'data-field': 'note', maxlength: 2000, placeholder: t('field.visit_note') });
    const done = h('span', { class: 'muted', 'data-field': 'status' });
    const form = h(
      'form',
      { class: 'visit', 'data-form': 'visit' },
      outcome,
      note,
      h('button', { type: 'submit', 'data-submit': 'visit' }, t('field.visit_add')),
      done,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      await this.outbox.add({
        kind: 'visit',
        taskId: null,
        url: `/api/households/${household.id}/visits`,
        json: { outcome: outcome.value, note: note.value.trim() || null },
      });
      note.value = '';
      done.textContent = t('field.visit_queued');
    });
    return form;
  }
}
