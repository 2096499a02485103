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
