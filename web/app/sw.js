// Glimpse's service worker: after one visit the app (its page and its
// Worker), the course pages, their WebAssembly, the SIMD kernels and the default model come from this cache, so the app
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
  'app-worker.js',
  'app-worker.wasm',
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
  'lenet.html',
  'lenet.css',
  'lenet.js',
  'lenet.wasm',
  'models/lenet5_mnist.glimpse',
];

// MNIST's digits (12 MB) are fetched by the LeNet-5 page only, so they are
// not precached; once that page has fetched them they are kept, and the
// page trains offline too.
const KEPT_ONCE_FETCHED = /\/mnist\/[^/]+\.gz$/;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: 'reload' skips the HTTP cache so a new version is fetched whole.
    await cache.addAll(PRECACHE.map((u) => new Request(u, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

// A page fetched before this worker controlled it (its first visit) asks
// for what it fetched to be kept: {keep: [relative URLs]}, MNIST's digits
// only.
self.addEventListener('message', (event) => {
  const urls = (event.data && Array.isArray(event.data.keep)) ? event.data.keep : [];
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    for (const u of urls) {
      const url = new URL(u, self.registration.scope);
      if (url.origin !== self.location.origin || !KEPT_ONCE_FETCHED.test(url.pathname) || await cache.match(url)) continue;
      const res = await fetch(url);
      if (res.ok) await cache.put(url, res);
    }
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
    const res = await fetch(req);
    if (res.ok && KEPT_ONCE_FETCHED.test(new URL(req.url).pathname)) await cache.put(req, res.clone());
    return res;
  })());
});
