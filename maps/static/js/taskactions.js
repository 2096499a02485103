// The work-order buttons of one task, as the user's role and the task's state allow
// (config.actions comes from maps/workflow.py); the API has the last word and its refusal
// (409 with the state machine's reason, 403) is shown as it is.
import { config } from './config.js';
import { getJSON, postForm, postJSON } from './api.js';
import { h } from './dom.js';
import { label, t } from './i18n.js';

const ESCALATION_LEVELS = ['grid_head', 'community', 'street', 'department'];

function allowed(action, task, user = config.user) {
  const desk = config.desk_roles.includes(user.role);
  const mine = user.worker_id && task.assignee_id === user.worker_id;
  const assignee = user.role === 'admin' || Boolean(mine);
  const notices = (task.notifications || []).filter((n) => user.worker_id && n.worker_id === user.worker_id);
  const notified = notices.length > 0;
  switch (action.who) {
    case 'desk':
      return desk;
    case 'assignee':
      return assignee;
    case 'notified': // told by an escalation, not the assignee (whose accept acknowledges)
      return !mine && notices.some((n) => !n.acknowledged_at);
    case 'assignee_or_notified':
      return assignee || notified;
    case 'desk_or_assignee':
      return desk || assignee;
    default:
      return false;
  }
}

async function workerOptions(task) {
  const query = task.grid_code ? `grid_code=${task.grid_code}` : `community_code=${task.community_code}`;
  const [own, community] = await Promise.all([
    getJSON(`/api/workers?${query}&limit=100`),
    task.community_code ? getJSON(`/api/workers?community_code=${task.community_code}&limit=200`) : { items: [] },
  ]);
  const seen = new Set();
  return [...own.items, ...community.items].filter((w) => !seen.has(w.id) && seen.add(w.id));
}

function noteField(required) {
  return h('textarea', { 'data-field': 'note', rows: 2, required, placeholder: t(required ? 'form.note_required' : 'form.note') });
}

/** The form's fields and how to turn them into the request, by the action's form kind. */
function formOf(action, task) {
  switch (action.form) {
    case 'worker': {
      const select = h('select', { 'data-field': 'worker' }, h('option', { value: '' }, t('form.loading')));
      workerOptions(task).then((workers) => {
        select.replaceChildren(
          h('option', { value: '' }, t('form.choose_worker')),
          ...workers.map((w) => h('option', { value: w.id }, `${w.name} · ${label('role', w.role)}${w.grid_codes.includes(task.grid_code) ? ' ★' : ''}`)),
        );
      });
      return {
        fields: [select, noteField(false)],
        body: (form) => {
          const worker = form.querySelector('[data-field=worker]').value;
          if (!worker) throw new Error(t('error.choose_worker'));
          return { worker_id: worker, note: noteOf(form) };
        },
      };
    }
    case 'handled':
      return {
        fields: [noteField(true), h('input', { type: 'file', 'data-field': 'photo', accept: 'image/jpeg,image/png,image/webp' })],
        body: (form) => {
          const data = new FormData();
          data.append('note', requiredNote(form));
          const photo = form.querySelector('[data-field=photo]').files[0];
          if (photo) data.append('photo', photo);
          return data;
        },
      };
    case 'escalate': {
      const department = h('input', { 'data-field': 'department', placeholder: t('form.department'), hidden: true });
      const level = h('select', { 'data-field': 'level', onchange: () => { department.hidden = level.value !== 'department'; } },
        ...ESCALATION_LEVELS.map((value) => h('option', { value }, label('level', value))));
      return {
        fields: [level, department, noteField(false)],
        body: (form) => ({ level: level.value, department: level.value === 'department' ? department.value : null, note: noteOf(form) }),
      };
    }
    case 'required_note':
      return { fields: [noteField(true)], body: (form) => ({ note: requiredNote(form) }) };
    case 'duplicate':
      return {
        fields: [h('input', { type: 'number', min: 1, 'data-field': 'duplicate_of', placeholder: t('form.duplicate_of') }), noteField(false)],
        body: (form) => ({ duplicate_of: Number(form.querySelector('[data-field=duplicate_of]').value), note: noteOf(form) }),
      };
    default:
      return null;
  }
}

function noteOf(form) {
  return form.querySelector('[data-field=note]')?.value.trim() || null;
}

function requiredNote(form) {
  const note = noteOf(form);
  if (!note) throw new Error(t('error.note_required'));
  return note;
}

function send(task, action, body) {
  const url = `/api/tasks/${task.id}/${action.name}`;
  return body instanceof FormData ? postForm(url, body) : postJSON(url, body);
}

/** The buttons (and their folded forms) for ``task``; ``run(promise, action)`` reports the outcome. */
export function actionButtons(task, run) {
  const box = h('div', { class: 'actions' });
  const forms = h('div', { class: 'action-forms' });
  for (const action of config.actions) {
    if (!action.from_states.includes(task.state) || !allowed(action, task)) continue;
    if (action.form === 'evaluate') {
      for (const satisfied of [true, false]) {
        box.append(h('button', {
          type: 'button', class: satisfied ? 'primary' : '', 'data-action': 'evaluate', 'data-satisfied': String(satisfied),
          onclick: () => run(send(task, action, { satisfied }), action),
        }, t(satisfied ? 'action.evaluate_yes' : 'action.evaluate_no')));
      }
      continue;
    }
    const form = formOf(action, task);
    if (form === null) {
      box.append(h('button', { type: 'button', class: 'primary', 'data-action': action.name, onclick: () => run(send(task, action, {}), action) }, label('action', action.name)));
      continue;
    }
    const element = h('form', { class: 'action-form', 'data-form': action.name, hidden: true },
      h('div', { class: 'form-title' }, label('action', action.name)),
      ...form.fields,
      h('button', { type: 'submit', class: 'primary', 'data-submit': action.name }, t('form.submit')));
    element.addEventListener('submit', (event) => {
      event.preventDefault();
      let body;
      try {
        body = form.body(element);
      } catch (error) {
        run(Promise.reject(error), action);
        return;
      }
      run(send(task, action, body), action);
    });
    forms.append(element);
    box.append(h('button', {
      type: 'button', 'data-action': action.name,
      onclick: () => {
        for (const other of forms.children) other.hidden = other !== element || !other.hidden;
      },
    }, label('action', action.name)));
  }
  return h('div', {}, box, forms);
}
