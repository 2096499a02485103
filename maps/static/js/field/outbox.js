// The outbox: every action is written to IndexedDB first, with its own Idempotency-Key,
// and sent from there — at once if the network is up, else when it returns (the online
// event, and a periodic retry because phones do not always fire it). A retry of an
// action the server already took is answered from its stored response, so it never acts
// twice. A refusal (409 the task was reassigned or moved on, 403, 404, 422) is kept as a
// conflict for the user to see and dismiss, never dropped silently.
import { config } from '../config.js';
import * as idb from './idb.js';
import { api, isNetworkError, newKey } from './net.js';
import { uploadBlob } from './resumable.js';

export class Outbox {
  constructor({ onSent, onConflict, onChange }) {
    this.onSent = onSent;
    this.onConflict = onConflict;
    this.onChange = onChange;
    this.running = null;
    this.again = false;
    this.sent = 0;
  }

  start() {
    window.addEventListener('online', () => this.flush());
    setInterval(() => this.flush(), config.outbox_retry_ms);
    return this.flush();
  }

  /** Queue ``POST url`` with ``json``; ``photos`` (Blobs) are uploaded before it is sent. */
  async add({ kind, taskId, url, json, photos = [] }) {
    const blobs = [];
    for (const photo of photos) {
      const blobKey = newKey();
      await idb.put('blobs', photo, blobKey);
      blobs.push(blobKey);
    }
    const item = { kind, taskId, url, json, blobs, uploads: {}, key: newKey(), queuedAt: Date.now() };
    item.seq = await idb.put('outbox', item);
    this.onChange();
    this.flush();
    return item;
  }

  async items() {
    return idb.all('outbox');
  }

  async dismiss(seq) {
    await this.drop(await idb.get('outbox', seq));
    this.onChange();
  }

  async drop(item) {
    for (const blobKey of item.blobs) await idb.remove('blobs', blobKey);
    await idb.remove('outbox', item.seq);
  }

  /** Send what waits, oldest first; stops at the first network failure. */
  flush() {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          for (const item of await idb.all('outbox')) {
            if (item.conflict) continue;
            if (!(await this.send(item))) break;
          }
        } while (this.again);
      } finally {
        this.running = null;
        this.onChange();
      }
    })();
    return this.running;
  }

  async send(item) {
    try {
      const json = { ...item.json };
      if (item.blobs.length) json.upload_ids = await this.upload(item);
      const answer = await api(item.url, { method: 'POST', json, key: item.key });
      await this.drop(item);
      this.sent += 1;
      this.onSent(item, answer);
      return true;
    } catch (error) {
      if (isNetworkError(error) || error.transient || error.status === 401) return false;
      item.conflict = { status: error.status, detail: error.detail };
      await idb.put('outbox', item);
      this.onConflict(item);
      return true;
    }
  }

  async upload(item) {
    const ids = [];
    for (const blobKey of item.blobs) {
      const blob = await idb.get('blobs', blobKey);
      const remember = async (id) => {
        item.uploads[blobKey] = id;
        await idb.put('outbox', item);
      };
      const createKey = `${item.key}-${blobKey}`;
      ids.push(await uploadBlob(blob, item.uploads[blobKey] || null, config.upload_chunk_bytes, remember, createKey));
    }
    return ids;
  }
}
