// The field app's service worker (rendered by maps/field.py with the shell's file list).
// The shell is cached on install, so the app opens without a network; pages are served
// network first (a fresh page when online), the versioned files cache first. The API is
// never cached here: the app keeps its tasks and its outbox in IndexedDB itself.
const VERSION = __VERSION__;
const SHELL = __SHELL__;
const CACHE = `wangge-field-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('wangge-field-') && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

async function pageFirstFromNetwork(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put('/m/', response.clone());
    return response;
  } catch {
    return (await cache.match('/m/')) || Response.error();
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  return cached || fetch(request);
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname === '/m/' || url.pathname === '/m') {
    event.respondWith(pageFirstFromNetwork(event.request));
  } else if (url.pathname.startsWith('/static/')) {
    event.respondWith(cacheFirst(event.request));
  }
});

// Web Push (the urgent ladder's first step, where the app subscribed): show the alert even
// with the app closed; a tap opens the app, whose inbox rings for the task.
self.addEventListener('push', (event) => {
  const alert = event.data ? event.data.json() : {};
  event.waitUntil(
    self.registration.showNotification(alert.title || '网格通', {
      body: alert.body || '',
      tag: (alert.refs || []).join(',') || undefined,
      requireInteraction: true,
      vibrate: [400, 200, 400, 200, 400],
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: 'window' }).then((open) => {
      const app = open.find((client) => new URL(client.url).pathname.startsWith('/m'));
      return app ? app.focus() : self.clients.openWindow('/m/');
    }),
  );
});
