#!/usr/bin/env node
'use strict';
// CommonJS on purpose, and bundles loaded with V8's code cache: Node 20 starts CommonJS faster than
// ESM and has no compile cache of its own (see scripts/bundle.mjs). `snapshot` takes a fast path
// that never loads yargs; everything else goes to the full CLI.
const { readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

function load(name) {
  const file = join(__dirname, '..', 'dist', 'bundle', name);
  const cacheFile = `${file}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {}
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dirname(file));
  script.runInThisContext().call(mod.exports, mod.exports, (id) => mod.require(id), mod, file, dirname(file));
  // The build writes the cache after a real run, so it holds the functions a run compiles.
  if (process.env.MEMCOMPARE_WRITE_CODE_CACHE === '1') process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  return mod.exports;
}

// Node 20 allows no import() inside vm.Script: the bundle borrows this module's (src/_import.ts).
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
    });
}
