#!/usr/bin/env node
'use strict';
// CommonJS on purpose, and bundles loaded with V8's code cache: Node 20 starts CommonJS faster than
// ESM and has no compile cache of its own (see scripts/bundle.mjs). `snapshot` takes a fast path
// that never loads yargs; everything else goes to the full CLI.
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

function load(name) {
  const file = join(__dirname, '..', 'dist', 'bundle', name);
  const cacheFile = `${file}.v8cache`;
  let cachedData;
  try {
    // A cache older than its bundle is stale: V8 checks only the source's length, and a stale cache of a
    // rebuilt bundle of the same length would run the old functions' code.
    if (statSync(cacheFile).mtimeMs >= statSync(file).mtimeMs) cachedData = readFileSync(cacheFile);
  } catch {}
  // The CommonJS wrapper written out (public APIs only): the bundle sees exports, a require that
  // resolves from its own folder, module, __filename and __dirname.
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(source, { filename: file, cachedData });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  // The build writes the cache after a real run, so it holds the functions a run compiles.
  if (process.env.MEMCOMPARE_WRITE_CODE_CACHE === '1') process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  return mod.exports;
}

// Node 20 allows no import() inside vm.Script: the bundle borrows this module's (src/export/import-esm.ts).
globalThis.__memcompareImport = (specifier) => import(specifier);

const argv = process.argv.slice(2);
const io = {
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
};
const fast = argv[0] === 'snapshot' ? load('fast.cjs').tryFastSnapshot(argv, io) : undefined;
if (fast !== undefined) {
  process.exitCode = fast;
} else {
  load('cli.cjs')
    .main(argv, io)
    .then((code) => {
      process.exitCode = code;
      // Interrupted (128 + the signal): everything memcompare owns is stopped and saved; a probe still
      // running (the interpreter's package versions) must not keep it alive past the signal.
      if (code === 129 || code === 130 || code === 143) process.exit(code);
    });
}
