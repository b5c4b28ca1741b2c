// The dedicated Worker behind load(url, {worker: true}): it runs
// glimpse.js's runtime (the module beside it) and answers the page's
// calls. Each message {id, name, args, callback} is one call of the Go
// runtime's API, with the arguments glimpse.js checked on the page;
// callback is the position of a function argument (onProgress, onEpoch)
// whose calls go back as {id, event}. The answer is {id, value} (bytes
// transferred) or {id, error} with the runtime's message. {stop: id} makes
// the next onEpoch of that call return false, since the page's answer to
// an epoch arrives after the runtime has asked.

import { runtimeInfo } from './glimpse.js';

// runtimeInfo() starts the runtime, which publishes its calls on the
// global (the library program's, and the classifier program's, which
// starts on the first classifierNew); a runtime that failed to start is
// tried again on the next call.
let api = null;
function runtime() {
  if (!api) {
    api = runtimeInfo().then(() => globalThis.__glimpseRuntime, (e) => {
      api = null;
      throw e;
    });
  }
  return api;
}
const stops = new Set();

onmessage = async ({ data }) => {
  if (data.stop !== undefined) {
    stops.add(data.stop);
    return;
  }
  const { id, name, args, callback } = data;
  try {
    const glimpse = await runtime();
    if (callback !== undefined) {
      args[callback] = (...event) => {
        if (stops.has(id)) return false;
        postMessage({ id, event });
        return undefined;
      };
    }
    let r = glimpse[name](...args);
    if (r && typeof r.then === 'function') {
      r = await r;
    } else if (r.error !== undefined) {
      throw new Error(r.error);
    } else {
      r = await r.value; // classifierNew's handle is a Promise
    }
    const whole = r instanceof Uint8Array && r.byteOffset === 0 && r.byteLength === r.buffer.byteLength;
    postMessage({ id, value: r }, whole ? [r.buffer] : []);
  } catch (e) {
    postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  } finally {
    stops.delete(id);
  }
};
