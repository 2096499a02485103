// The reporter's follow-up page (/report/follow/{token}): the task's steps and times, and
// the evaluation at the end (满意 closes, 不满意 reopens for 二次办理).
import { config } from './config.js';
import { h } from './dom.js';
import { formatTime } from './format.js';
import { applyTranslations, label, t, toggleLanguage } from './i18n.js';

const main = document.getElementById('report-main');
const url = `/api/reports/${encodeURIComponent(config.token)}`;

function render(report) {
  main.replaceChildren(
    h('h2', {}, `${t('follow.title')} #${report.service_request_id}`),
    h('p', {}, `${t('follow.state')}: `, h('strong', { id: 'follow-state', 'data-state': report.state }, label('state', report.state))),
    report.description ? h('p', { class: 'description' }, report.description) : null,
    h('ol', { class: 'steps' }, ...report.steps.map((s) => h('li', {}, `${formatTime(s.at)} · ${label('state', s.state)}`))),
    report.can_evaluate ? h('div', {}, h('p', {}, t('follow.evaluate')), h('div', { class: 'evaluate' },
      h('button', { type: 'button', id: 'follow-satisfied', onclick: () => evaluate(true) }, t('follow.satisfied')),
      h('button', { type: 'button', id: 'follow-unsatisfied', onclick: () => evaluate(false) }, t('follow.unsatisfied')))) : null,
  );
}

async function load() {
  const response = await fetch(url, { cache: 'no-store', credentials: 'omit' });
  if (response.ok) render(await response.json());
  else main.replaceChildren(h('p', { class: 'error' }, (await response.json()).detail));
}

async function evaluate(satisfied) {
  const response = await fetch(`${url}/evaluate`, {
    // The token is the only key: a staff login's cookie is never sent (nor needed).
    method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ satisfied }),
  });
  if (response.ok) render(await response.json());
  main.prepend(h('p', { class: 'hint' }, t('follow.thanks')));
}

document.getElementById('lang-toggle').addEventListener('click', () => { toggleLanguage(); location.reload(); });
applyTranslations();
document.title = t('follow.title');
load();
// Progress changes while the page is open: look again every 10 s while it is visible.
setInterval(() => document.visibilityState === 'visible' && load(), 10000);
window.wangge = { reload: load };
