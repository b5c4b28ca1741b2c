// What the browser test and the browser benchmark share: serving a
// directory with the glimpse CLI (the same server `make serve` runs) and
// launching Debian's headless Chromium through playwright-core.
"use strict";

const { spawn } = require("child_process");
const path = require("path");
const { chromium } = require("playwright-core");

const root = path.join(__dirname, "..", "..");

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// Flags that keep Chromium from talking to anything but the test server.
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** Launches Chromium with extra flags on top of the quiet defaults. */
function launch(extraArgs = []) {
  return chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, ...extraArgs] });
}

/**
 * Launches Chromium with a profile kept in userDataDir (a fresh directory
 * is a first visit; launching again on it is a return visit, with the
 * HTTP cache, the compiled WebAssembly and the Cache API as they were
 * left). Resolves to a BrowserContext.
 */
function launchPersistent(userDataDir, extraArgs = []) {
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: [...ARGS, ...extraArgs] });
}

/**
 * Serves dir with `bin/glimpse serve` on a free loopback port; resolves to
 * {url, close}. The server prints its address once it listens.
 */
function serve(dir) {
  const bin = path.join(root, "bin", "glimpse");
  const proc = spawn(bin, ["serve", dir, "--addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => { proc.kill(); reject(new Error(`${bin} serve: no address after 10 s`)); }, 10000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /on (http:\/\/[^/\s]+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], close: () => proc.kill() });
      }
    });
    proc.stderr.on("data", (d) => { err += d; });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${bin} serve exited with ${code}: ${err.trim()}`));
    });
  });
}

module.exports = { root, launch, launchPersistent, serve };
