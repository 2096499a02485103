// The phone's own storage (IndexedDB): the login, my open tasks, the outbox of actions
// not yet sent, and the shrunk photos waiting for upload. Survives reloads and restarts.
const DB_NAME = 'wangge-field';
const DB_VERSION = 1;
const STORES = {
  kv: {},
  tasks: { keyPath: 'id' },
  outbox: { keyPath: 'seq', autoIncrement: true },
  blobs: {},
};

let opening = null;

function database() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      for (const [name, options] of Object.entries(STORES)) {
        if (!request.result.objectStoreNames.contains(name)) request.result.createObjectStore(name, options);
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

/** Run ``work(store)`` in one transaction; resolves with its request's result once committed. */
async function run(name, mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(name, mode);
    const request = work(transaction.objectStore(name));
    transaction.oncomplete = () => resolve(request?.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const get = (store, key) => run(store, 'readonly', (s) => s.get(key));
export const all = (store) => run(store, 'readonly', (s) => s.getAll());
export const put = (store, value, key) => run(store, 'readwrite', (s) => s.put(value, key));
export const remove = (store, key) => run(store, 'readwrite', (s) => s.delete(key));
export const clear = (store) => run(store, 'readwrite', (s) => s.clear());

/** Replace a store's whole content in one transaction (the fresh list of my tasks). */
export function replaceAll(store, values) {
  return run(store, 'readwrite', (s) => {
    s.clear();
    let last = null;
    for (const value of values) last = s.put(value);
    return last;
  });
}
