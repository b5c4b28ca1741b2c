// Tests the npm package (dist/glimpse-ml-glimpse-VERSION.tgz) as a user
// gets it:
//
//   - installed from the tarball into a scratch folder, it holds the
//     library alone (glimpse.js, glimpse.d.ts, the runtime, the kernels,
//     package.json, LICENSE), byte for byte what make built, and its
//     package.json has the version of core/version/VERSION, "type":
//     "module" and exports whose "types" condition names glimpse.d.ts;
//   - the README's JavaScript API examples, as TypeScript importing the
//     package by name, and tools/js/package-types.ts (what must and must
//     not type-check) compile with TypeScript 5:
//       tsc --strict --module nodenext --moduleResolution nodenext --lib es2022,dom
//     with no skipLibCheck, the types resolving from the installed tarball;
//   - glimpse.d.ts declares everything glimpse.js offers: every export,
//     every public method of the objects it returns, every option name it
//     reads, and the head names it accepts (and nothing glimpse.js lacks);
//   - in headless Chromium, on a site made of the installed package's
//     files and the default model, runtimeInfo() reports the version and
//     both README examples run and agree with the CLI.
//
// usage: node tools/js/package-test.js dist/glimpse-ml-glimpse-VERSION.tgz [--keep]
// Needs bin/glimpse, dist/models/mobilenet_v2_1.0_224.glimpse and Chromium.
// Prints one line per check and "N passed, N failed" last.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
const ts = require("typescript");
const { root, launch, serve } = require("./browser");
const { readmeExamples, similarityExample, classifierExample } = require("./readme-examples");

const NAME = "@glimpse-ml/glimpse";
const FILES = ["LICENSE", "glimpse-classifier.wasm", "glimpse-worker.js", "glimpse.d.ts", "glimpse.js", "glimpse.wasm", "kernels.wasm", "kernels_relaxed.wasm", "loader.mjs", "package.json", "wasm_exec.js"];
const TSC_FLAGS = ["--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--lib", "es2022,dom", "--noEmit"];
const dist = path.join(root, "dist");
const defaultModel = path.join(dist, "models", "mobilenet_v2_1.0_224.glimpse");

let passed = 0;
let failed = 0;

function check(name, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`ok   ${name}${detail ? ` (${detail})` : ""}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ""}`);
  }
}

function listFiles(dir, prefix = "") {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]);
}

// installPackage installs the tarball into a fresh scratch folder, as a
// user's project would, and returns the package's directory there.
function installPackage(tgz, scratch) {
  fs.writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ name: "glimpse-package-test", private: true, type: "module" }, null, 2));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", tgz], { cwd: scratch, stdio: ["ignore", "pipe", "pipe"] });
  return path.join(scratch, "node_modules", ...NAME.split("/"));
}

function checkContents(tgz, pkg, version) {
  check("the tarball is named for the version", path.basename(tgz) === `glimpse-ml-glimpse-${version}.tgz`, path.basename(tgz));
  const files = listFiles(pkg).sort();
  check("the package holds the library alone", JSON.stringify(files) === JSON.stringify(FILES), files.join(" "));
  const differ = files.filter((f) => fs.existsSync(path.join(dist, f)) && !fs.readFileSync(path.join(pkg, f)).equals(fs.readFileSync(path.join(dist, f))));
  check("the package's files are those make built in dist/", differ.length === 0, differ.join(" "));
  const size = fs.statSync(tgz).size;
  const unpacked = files.reduce((n, f) => n + fs.statSync(path.join(pkg, f)).size, 0);
  console.log(`     ${path.basename(tgz)}: ${size} bytes (${(size / 2 ** 20).toFixed(2)} MB), ${unpacked} bytes unpacked, ${files.length} files`);

  const manifest = JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8"));
  const dot = manifest.exports && manifest.exports["."];
  check("package.json: name, version from core/version/VERSION, type module",
    manifest.name === NAME && manifest.version === version && manifest.type === "module", `${manifest.name}@${manifest.version}, type ${manifest.type}`);
  check("package.json: exports '.' with the types condition first, then the module",
    dot && Object.keys(dot)[0] === "types" && dot.types === "./glimpse.d.ts" && dot.default === "./glimpse.js", JSON.stringify(manifest.exports));
}

// typeCheck writes the README's examples as TypeScript modules that import
// the package by name, beside package-types.ts, and compiles them all.
function typeCheck(scratch) {
  const examples = readmeExamples();
  check("the README has its two JavaScript API examples", examples.length === 2, `${examples.length} found`);
  const files = [];
  examples.forEach((html, i) => {
    const m = /<script type="module">\n([\s\S]*?)<\/script>/.exec(html);
    const imports = m && /from '\.\/glimpse\.js'/.test(m[1]);
    check(`README example ${i + 1} is a module script importing './glimpse.js'`, !!imports);
    if (!imports) return;
    const file = `readme-example-${i + 1}.ts`;
    fs.writeFileSync(path.join(scratch, file), m[1].replace(/from '\.\/glimpse\.js'/g, `from '${NAME}'`));
    files.push(file);
  });
  fs.copyFileSync(path.join(__dirname, "package-types.ts"), path.join(scratch, "package-types.ts"));
  files.push("package-types.ts");

  const tsc = path.join(path.dirname(require.resolve("typescript/package.json")), "bin", "tsc");
  const version = execFileSync(process.execPath, [tsc, "--version"]).toString().trim();
  check("TypeScript 5 compiles", /^Version 5\./.test(version), version);
  let out = "";
  let ok = true;
  try {
    out = execFileSync(process.execPath, [tsc, ...TSC_FLAGS, ...files], { cwd: scratch, stdio: ["ignore", "pipe", "pipe"] }).toString();
  } catch (e) {
    ok = false;
    out = `${e.stdout}${e.stderr}`;
  }
  console.log(`     tsc ${TSC_FLAGS.join(" ")} ${files.join(" ")}: ${ok ? "no errors" : "errors:"}`);
  if (out.trim()) console.log(out.trim().split("\n").map((l) => `     ${l}`).join("\n"));
  check("the README examples and package-types.ts type-check against the package's glimpse.d.ts", ok);

  // The types must resolve from the tarball, not from anywhere else.
  const program = ts.createProgram([path.join(scratch, files[0])], {
    strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
  });
  const resolved = program.getSourceFiles().map((f) => f.fileName).filter((f) => f.endsWith("glimpse.d.ts"));
  check("the package's types resolve from the installed tarball", resolved.length === 1 && fs.realpathSync(resolved[0]).startsWith(fs.realpathSync(scratch)), resolved.join(" "));
}

// jsSurface reads glimpse.js: its exports, the public methods of its
// classes, the option names each function or method destructures (by
// parameter position), and the head names classifier() accepts.
function jsSurface(file) {
  const src = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const surface = { exports: new Set(), classes: new Map(), options: new Map(), heads: null };
  const exported = (n) => (ts.getCombinedModifierFlags(n) & ts.ModifierFlags.Export) !== 0;
  const optionsOf = (owner, fn) => {
    fn.parameters.forEach((p, i) => {
      if (ts.isObjectBindingPattern(p.name)) {
        surface.options.set(`${owner}#${i}`, p.name.elements.map((e) => (e.propertyName || e.name).getText()));
      }
    });
  };
  const visit = (n) => {
    if (ts.isFunctionDeclaration(n) && n.name && exported(n)) {
      surface.exports.add(n.name.text);
      optionsOf(n.name.text, n);
    } else if (ts.isVariableStatement(n) && exported(n)) {
      for (const d of n.declarationList.declarations) surface.exports.add(d.name.getText());
    } else if (ts.isClassDeclaration(n) && n.name) {
      if (exported(n)) surface.exports.add(n.name.text);
      const methods = [];
      for (const m of n.members) {
        if (ts.isMethodDeclaration(m) && ts.isIdentifier(m.name)) {
          methods.push(m.name.text);
          optionsOf(`${n.name.text}.${m.name.text}`, m);
        }
      }
      surface.classes.set(n.name.text, methods);
    } else if (ts.isExportDeclaration(n) && n.exportClause && ts.isNamedExports(n.exportClause)) {
      for (const e of n.exportClause.elements) surface.exports.add(e.name.text);
    } else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === "includes" &&
      ts.isArrayLiteralExpression(n.expression.expression) && n.arguments.length === 1 && n.arguments[0].getText() === "head") {
      surface.heads = n.expression.expression.elements.map((e) => e.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return surface;
}

// checkDeclarations holds glimpse.d.ts to glimpse.js's surface, both ways.
function checkDeclarations(pkg) {
  const js = jsSurface(path.join(pkg, "glimpse.js"));
  const dts = path.join(pkg, "glimpse.d.ts");
  const program = ts.createProgram([dts], { strict: true, noEmit: true, lib: ["lib.es2022.d.ts", "lib.dom.d.ts"] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(dts));
  const declared = new Map(checker.getExportsOfModule(moduleSymbol).map((s) => [s.name, s]));
  const values = [...declared.values()].filter((s) => s.flags & ts.SymbolFlags.Value).map((s) => s.name);

  const missing = [...js.exports].filter((n) => !values.includes(n));
  const extra = values.filter((n) => !js.exports.has(n));
  check("glimpse.d.ts declares every export of glimpse.js, and no other value", missing.length === 0 && extra.length === 0,
    `glimpse.js exports ${[...js.exports].join(", ")}${missing.length ? `; undeclared: ${missing.join(", ")}` : ""}${extra.length ? `; declared but not exported: ${extra.join(", ")}` : ""}`);

  // The parameters of a declared function or method, as types.
  const paramTypes = (sig) => sig.getParameters().map((p) => checker.getNonNullableType(checker.getTypeOfSymbol(p)));
  const signatures = new Map(); // owner -> parameter types
  for (const name of js.exports) {
    const s = declared.get(name);
    if (s && s.flags & ts.SymbolFlags.Function) signatures.set(name, paramTypes(checker.getTypeOfSymbol(s).getCallSignatures()[0]));
  }
  for (const [cls, methods] of js.classes) {
    const s = declared.get(cls);
    const type = s && checker.getDeclaredTypeOfSymbol(s);
    const members = type ? type.getProperties().map((p) => p.name) : [];
    const undeclared = methods.filter((m) => !members.includes(m));
    const stale = members.filter((m) => !methods.includes(m));
    check(`glimpse.d.ts's ${cls} has every public method of glimpse.js's class ${cls}, and no other`, !!type && undeclared.length === 0 && stale.length === 0,
      `${methods.join(", ")}${undeclared.length ? `; undeclared: ${undeclared.join(", ")}` : ""}${stale.length ? `; not in glimpse.js: ${stale.join(", ")}` : ""}`);
    for (const m of type ? methods : []) {
      const p = type.getProperty(m);
      if (p) signatures.set(`${cls}.${m}`, paramTypes(checker.getTypeOfSymbol(p).getCallSignatures()[0]));
    }
  }
  for (const [key, names] of js.options) {
    const [owner, index] = key.split("#");
    const param = (signatures.get(owner) || [])[Number(index)];
    const props = param ? param.getProperties().map((p) => p.name) : [];
    const undeclared = names.filter((n) => !props.includes(n));
    const stale = props.filter((n) => !names.includes(n));
    check(`glimpse.d.ts types every option ${owner}() reads, and no other`, !!param && undeclared.length === 0 && stale.length === 0,
      `${names.join(", ")}${undeclared.length ? `; undeclared: ${undeclared.join(", ")}` : ""}${stale.length ? `; not read: ${stale.join(", ")}` : ""}`);
  }
  const head = declared.get("Head");
  const heads = head ? checker.getDeclaredTypeOfSymbol(head).types.map((t) => t.value).sort() : [];
  check("glimpse.d.ts's Head names the heads model.classifier() accepts", js.heads !== null && JSON.stringify(heads) === JSON.stringify([...js.heads].sort()),
    `glimpse.js: ${js.heads}; glimpse.d.ts: ${heads}`);
}

// inChromium serves the package's files with the default model and runs
// runtimeInfo() and the README's examples there.
async function inChromium(pkg, version) {
  const site = fs.mkdtempSync(path.join(os.tmpdir(), "glimpse-package-site-"));
  try {
    fs.cpSync(pkg, site, { recursive: true });
    fs.mkdirSync(path.join(site, "models"));
    fs.copyFileSync(defaultModel, path.join(site, "models", path.basename(defaultModel)));
    fs.writeFileSync(path.join(site, "blank.html"), '<!doctype html><meta charset="utf-8"><title>glimpse package test</title><link rel="icon" href="data:,">');
    const server = await serve(site);
    try {
      const browser = await launch();
      try {
        const page = await browser.newPage();
        await page.goto(`${server.url}blank.html`);
        const info = await page.evaluate(async () => (await import("/glimpse.js")).runtimeInfo());
        check("runtimeInfo() gives the package's version", info.version === version && /^go1\./.test(info.goVersion),
          `version ${info.version}, ${info.goVersion}, simd ${info.simd}, kernels ${info.kernels}`);
      } finally {
        await browser.close();
      }
      await similarityExample(server.url, site, defaultModel, check);
      await classifierExample(server.url, site, check);
    } finally {
      server.close();
    }
  } finally {
    fs.rmSync(site, { recursive: true, force: true });
  }
}

async function main() {
  const arg = process.argv.slice(2).find((a) => !a.startsWith("--"));
  if (!arg) throw new Error("usage: node tools/js/package-test.js dist/glimpse-ml-glimpse-VERSION.tgz [--keep]");
  const tgz = path.resolve(arg);
  for (const f of [tgz, defaultModel, path.join(root, "bin", "glimpse")]) {
    if (!fs.existsSync(f)) throw new Error(`${path.relative(root, f)} is missing: run make first`);
  }
  const version = fs.readFileSync(path.join(root, "core", "version", "VERSION"), "utf8").trim();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "glimpse-package-"));
  try {
    const pkg = installPackage(tgz, scratch);
    checkContents(tgz, pkg, version);
    typeCheck(scratch);
    checkDeclarations(pkg);
    await inChromium(pkg, version);
  } finally {
    if (process.argv.includes("--keep")) console.log(`scratch folder kept in ${scratch}`);
    else fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main()
  .catch((e) => {
    failed++;
    console.log(`FAIL ${e.stack || e}`);
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  });
