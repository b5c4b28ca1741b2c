// Glimpse's service worker: after one visit the app, the course page, their
// WebAssembly, the SIMD kernels and the default model come from this cache, so the app
// works with the network gone. VERSION is replaced at build time by a hash
// of the precached files: a new build gets a new cache and the old one is
// deleted once the new worker takes over. URLs are relative to the
// worker's scope, so the site works under any sub-path.
const VERSION = '__VERSION__';
const CACHE = `glimpse-${VERSION}`;
const PRECACHE = [
  './',
  'index.html',
  'app.css',
  'app.js',
  'store.js',
  'app.wasm',
  'wasm_exec.js',
  'loader.mjs',
  'kernels.wasm',
  'kernels_relaxed.wasm',
  'favicon.svg',
  'manifest.webmanifest',
  'models/mobilenet_v2_1.0_224.glimpse',
  'learn.html',
  'learn.css',
  'learn.js',
  'lang.js',
  'learn.wasm',
  'sample.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: 'reload' skips the HTTP cache so a new version is fetched whole.
    await cache.addAll(PRECACHE.map((u) => new Request(u, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('glimpse-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

// Cache first for the precached files; anything else of this origin goes
// to the network. Requests to other origins are never made by the app and
// are left alone.
self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(req, { ignoreSearch: true });
    if (hit) return hit;
    return fetch(req);
  })());
});
