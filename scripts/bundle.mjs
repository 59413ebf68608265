// Bundles the CLI into one CommonJS file, dist/bundle/cli.cjs, so that a cold `memcompare snapshot`
// loads one file through the light CommonJS loader: Node 20 has no compile cache, and resolving
// yargs's ESM graph alone costs as much as Node's own start. Heavy parts (autocannon,
// systeminformation, charts) are required only by the commands that use them.
import { build } from 'esbuild';

const here = (p) => new URL(p, import.meta.url).pathname;

await build({
  entryPoints: { cli: 'dist/src/cli/main.js', fast: 'dist/src/cli/fast.js' },
  outdir: 'dist/bundle',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: process.env.NOMINIFY !== '1',
  sourcemap: true,
  external: ['autocannon', 'systeminformation', 'vega', 'vega-lite', 'ajv'],
  // import() would need a loader callback inside vm.Script; require() is what CommonJS has.
  supported: { 'dynamic-import': false },
  // import.meta.url is used to find package files; in the bundle it is the bundle's own URL.
  define: { 'import.meta.url': '__bundle_url' },
  banner: { js: "const __bundle_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

// The scenario schema's validator, compiled once here (ajv's standalone code) instead of at every start: requiring
// ajv and compiling the schema cost 75-90 ms before a run could boot its first server. The schema's text is stored
// beside it; src/scenario/scenario.ts compiles at run time when it differs (a schema changed without a build).
{
  const { createRequire } = await import('node:module');
  const { writeFileSync } = await import('node:fs');
  const require = createRequire(import.meta.url);
  const Ajv = require('ajv').default;
  const standaloneCode = require('ajv/dist/standalone').default;
  const { scenarioSchema, SCENARIO_AJV_OPTIONS } = await import(here('../dist/src/scenario/schema.js'));
  const { DEFAULT_FAMILY, familyNames } = await import(here('../dist/src/servers/registry.js'));
  const schema = scenarioSchema(familyNames(), DEFAULT_FAMILY.name);
  const ajv = new Ajv({ ...SCENARIO_AJV_OPTIONS, code: { source: true } });
  const code = standaloneCode(ajv, ajv.compile(schema));
  writeFileSync(
    here('../dist/bundle/scenario-validate.cjs'),
    `${code}\nmodule.exports.schemaText = ${JSON.stringify(JSON.stringify(schema))};\n`,
  );
}

// Warm V8's code cache for both bundles with real runs (see bin/memcompare.cjs).
import { execFileSync } from 'node:child_process';

const bin = here('../bin/memcompare.cjs');
const env = { ...process.env, MEMCOMPARE_WRITE_CODE_CACHE: '1' };
execFileSync(process.execPath, [bin, 'snapshot', '--pid', String(process.pid), '-t', '-k'], { env, stdio: 'ignore' });
execFileSync(process.execPath, [bin, '--help'], { env, stdio: 'ignore' });
