// The work orders the map knows: the open tasks of the user's area, loaded once and kept
// current by the live stream (tasks finished while the page is open stay, as "done").
import { getJSON } from './api.js';
import { config } from './config.js';

const PAGE = 500;
export const TASK_CAP = 5000;
const OPEN = new Set(config.open_states);
const LIVE_FIELDS = [
  'state', 'urgency', 'category', 'title', 'assignee_id', 'grid_code', 'community_code',
  'due_at', 'escalation_level',
];

export function isOpen(task) {
  return OPEN.has(task.state);
}

export function isOverdue(task, now = Date.now()) {
  return isOpen(task) && Boolean(task.due_at) && Date.parse(task.due_at) < now;
}

export class TaskStore {
  constructor() {
    this.tasks = new Map();
    this.truncated = false;
    this.arrivedDuringLoad = null;
  }

  get size() {
    return this.tasks.size;
  }

  get(id) {
    return this.tasks.get(Number(id));
  }

  values() {
    return this.tasks.values();
  }

  /** All open tasks in scope (at most TASK_CAP, the newest), replacing what was known. */
  async load() {
    const states = config.open_states.map((state) => `state=${state}`).join('&');
    const page = (offset) => getJSON(`/api/tasks?${states}&limit=${PAGE}&offset=${offset}`);
    const arrived = [];
    this.arrivedDuringLoad = arrived;
    let pages;
    try {
      const first = await page(0);
      const offsets = [];
      for (let offset = PAGE; offset < Math.min(first.total, TASK_CAP); offset += PAGE) offsets.push(offset);
      pages = [first, ...(await Promise.all(offsets.map(page)))];
    } finally {
      this.arrivedDuringLoad = null;
    }
    this.tasks = new Map();
    for (const result of pages) for (const task of result.items) this.tasks.set(task.id, task);
    this.truncated = pages[0].total > TASK_CAP;
    // Live changes that crossed the pages in flight are newer than the pages.
    arrived.forEach((message) => this.apply(message));
  }

  /** A live ``task`` message merged into what is known; true if the task is new here. */
  apply(message) {
    this.arrivedDuringLoad?.push(message);
    const known = this.tasks.get(message.id);
    const task = known ?? { id: message.id, lon: null, lat: null, created_at: new Date().toISOString() };
    for (const field of LIVE_FIELDS) if (field in message) task[field] = message[field];
    if (message.lon !== null && message.lon !== undefined) Object.assign(task, { lon: message.lon, lat: message.lat });
    if (!known) task.fresh = true;
    if (task.assignee_id !== known?.assignee_id) task.assignee_name = null;
    this.tasks.set(task.id, task);
    return !known;
  }

  /** A task as the API returns it (list item or detail). */
  put(task) {
    const known = this.tasks.get(task.id);
    this.tasks.set(task.id, Object.assign(known ?? {}, task));
  }

  overdueGridCodes(now = Date.now()) {
    const codes = new Set();
    for (const task of this.tasks.values()) if (task.grid_code && isOverdue(task, now)) codes.add(task.grid_code);
    return codes;
  }
}
