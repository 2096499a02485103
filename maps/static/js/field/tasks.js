// My open tasks, kept on the phone (IndexedDB) so the inbox opens offline, refreshed from
// the API when online and kept current by the live stream. An action still in the outbox
// shows as its expected state, marked "waiting to send".
import { config } from '../config.js';
import * as idb from './idb.js';
import { api } from './net.js';

const LIST_URL = `/api/tasks?limit=200&${config.open_states.map((s) => `state=${s}`).join('&')}`;

export class TaskStore {
  constructor(onChange) {
    this.tasks = new Map();
    this.onChange = onChange;
  }

  async loadCached() {
    for (const task of await idb.all('tasks')) this.tasks.set(task.id, task);
    this.onChange();
  }

  /** The fresh list from the API (local "waiting" marks are kept until their send). */
  async refresh() {
    const page = await api(LIST_URL);
    const fresh = new Map(page.items.map((task) => [task.id, task]));
    for (const [id, task] of this.tasks) {
      if (task.pending && fresh.has(id)) fresh.set(id, { ...fresh.get(id), pending: task.pending, state: task.state });
    }
    this.tasks = fresh;
    await idb.replaceAll('tasks', [...fresh.values()]);
    this.onChange();
  }

  async put(task) {
    this.tasks.set(task.id, task);
    await idb.put('tasks', task);
    this.onChange();
  }

  async remove(id) {
    this.tasks.delete(id);
    await idb.remove('tasks', id);
    this.onChange();
  }

  /** A task message of the stream: update, add (fetching the row) or drop when closed. */
  async apply(message) {
    if (!config.open_states.includes(message.state)) {
      if (this.tasks.has(message.id)) await this.remove(message.id);
      return;
    }
    const known = this.tasks.get(message.id);
    if (known && !known.pending) {
      await this.put({ ...known, state: message.state, assignee_id: message.assignee_id, urgency: message.urgency });
      return;
    }
    if (!known) await this.put(await api(`/api/tasks/${message.id}`));
  }

  /** Shown as ``state`` until the outbox has sent the action. */
  async markPending(id, state) {
    const task = this.tasks.get(id);
    if (task) await this.put({ ...task, state, pending: state });
  }

  /** The server refused the action: the task is again what the server says (next refresh). */
  async clearPending(id) {
    const task = this.tasks.get(id);
    if (task?.pending) {
      const { pending, ...rest } = task;
      await this.put(rest);
    }
  }

  async settle(id, answer) {
    if (answer && answer.id === id && answer.state) {
      if (config.open_states.includes(answer.state)) await this.put(answer);
      else await this.remove(id);
    }
  }

  sorted() {
    return [...this.tasks.values()].sort(
      (a, b) => (b.urgency === 'urgent') - (a.urgency === 'urgent') || String(b.created_at).localeCompare(String(a.created_at)),
    );
  }
}
