import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkFlag, LIMITS } from '../../../src/scenario/limits.js';
import { listScenarioFiles, loadScenario, validateScenario } from '../../../src/scenario/scenario.js';
import { scenarioSchema } from '../../../src/scenario/schema.js';
import { DEFAULT_FAMILY, familyNames } from '../../../src/servers/registry.js';
import { ROOT, tempDir } from '../../helpers.js';

const base = tempDir('memcompare-scenario-');
const good = {
  name: 'x',
  command: ['gunicorn', '-b', '127.0.0.1:{port}', 'app:app'],
  variants: [{ name: 'a' }, { name: 'b', args: ['--preload'] }],
};

describe('scenarios', () => {
  it('ships preload-vs-nopreload as the seed describes it', () => {
    const s = loadScenario('preload-vs-nopreload');
    assert.equal(s.server, 'gunicorn');
    assert.equal(s.workers, 5);
    assert.deepEqual(
      s.variants.map((v) => [v.name, v.args]),
      [
        ['nopreload', []],
        ['preload', ['--preload']],
      ],
    );
    assert.deepEqual([s.warmup.requests, s.warmup.connections], [30, 30]);
    assert.match(s.cwd, /scenarios\/apps\/numpy-matplotlib$/);
  });
  it('warms to a steady state unless a count is given; the seed keeps 30 requests as its first round', () => {
    assert.equal(validateScenario(good, 'x.json', base).warmup.until, 'steady');
    assert.equal(validateScenario({ ...good, warmup: { requests: 50 } }, 'x.json', base).warmup.until, 'count');
    assert.equal(validateScenario({ ...good, warmup: { requests: 50, until: 'steady' } }, 'x.json', base).warmup.until, 'steady');
    const seed = loadScenario('preload-vs-nopreload');
    assert.deepEqual([seed.warmup.requests, seed.warmup.until], [30, 'steady']);
    assert.match(seed.description, /article's 30 requests as its first round/);
  });
  it("a top-level env is every variant's start; a variant's own keys win", () => {
    const s = validateScenario(
      { ...good, env: { A: '1', B: '{port}' }, variants: [{ name: 'a' }, { name: 'b', env: { A: '2' } }] },
      'x.json',
      base,
    );
    assert.deepEqual(
      s.variants.map((v) => v.env),
      [
        { A: '1', B: '{port}' },
        { A: '2', B: '{port}' },
      ],
    );
  });
  it("a port fixed in the server's own flags is taken at every run; none at all is refused", () => {
    const fixed = validateScenario({ ...good, command: ['gunicorn', '-b', '127.0.0.1:8123', 'app:app'] }, 'x.json', base);
    assert.equal(fixed.port, 8123);
    assert.throws(
      () => validateScenario({ ...good, command: ['gunicorn', 'app:app'] }, 'x.json', base),
      /command \["gunicorn","app:app"\]: must contain \{port\}/,
    );
  });
  it('every shipped scenario validates', () => {
    const names = listScenarioFiles().map((f) => f.replace(/\.json$/, ''));
    assert.ok(names.length >= 4, names.join(', '));
    for (const n of names) assert.equal(loadScenario(n).name, n);
  });
  it('fills defaults', () => {
    const s = validateScenario(good, 'f.json', base);
    assert.equal(s.runs, 3);
    assert.equal(s.cwd, base);
  });
  const bad: Array<[string, unknown, RegExp]> = [
    ['missing {port}', { ...good, command: ['gunicorn', 'app:app'] }, /f\.json: command \["gunicorn","app:app"\]: must contain \{port\}/],
    ['a typo in a field', { ...good, wokers: 5 }, /f\.json: wokers 5: unknown field; known fields:/],
    ['zero workers', { ...good, workers: 0 }, /f\.json: workers 0: must be a whole number from 1 to 256/],
    ['duplicate variants', { ...good, variants: [{ name: 'a' }, { name: 'a' }] }, /variants\[1\]\.name "a": variant names must differ/],
    [
      'more connections than requests',
      { ...good, warmup: { requests: 10, connections: 30 } },
      /warmup\.connections 30: must not exceed warmup\.requests \(10\)/,
    ],
    [
      'a path that escapes the scenario folder',
      { ...good, app: '../../etc' },
      /app "\.\.\/\.\.\/etc": must stay inside the scenario folder/,
    ],
    [
      'a warm-up path without a slash',
      { ...good, warmup: { path: 'http://10.0.0.1/' } },
      /warmup\.path "http:\/\/10\.0\.0\.1\/": must be a path starting with one "\/"/,
    ],
    [
      'a warm-up path that names another host',
      { ...good, warmup: { path: '//10.0.0.1/x' } },
      /warmup\.path "\/\/10\.0\.0\.1\/x": must be a path starting with one "\/" \(load goes to loopback only/,
    ],
    ['a host field', { ...good, host: '10.0.0.1' }, /host "10\.0\.0\.1": unknown field/],
    ['an unknown server family', { ...good, server: 'tomcat' }, /server "tomcat": unknown server family/],
    ['a wrong type', { ...good, runs: 'three' }, /f\.json: runs "three": must be a whole number from 1 to 1000/],
    [
      'a value out of range',
      { ...good, soak: { durationSeconds: 0 } },
      /soak\.durationSeconds 0: must be a number more than 0 and at most 86400/,
    ],
    [
      'a CPU budget out of range',
      { ...good, soak: { durationSeconds: 5, maxCpuPercent: 0 } },
      /soak\.maxCpuPercent 0: must be a number more than 0/,
    ],
    [
      'an unknown key deep down',
      { ...good, warmup: { requets: 10 } },
      /warmup\.requets 10: unknown field; known fields: requests, connections/,
    ],
    [
      'a control character in a name',
      { ...good, variants: [{ name: 'a\u001b[31m' }] },
      /variants\[0\]\.name "a\\u001b\[31m": use letters, digits/,
    ],
    [
      'a newline in the description',
      { ...good, description: 'x\n# Heading' },
      /description "x\\n# Heading": one line of text without control characters/,
    ],
    ['a missing command', { name: 'x', variants: [{ name: 'a' }] }, /f\.json: command missing: is required/],
  ];
  for (const [what, doc, message] of bad) {
    it(`refuses ${what} with file, field, value and fix`, () => {
      assert.throws(
        () => validateScenario(doc, 'f.json', base),
        (e: Error) => {
          assert.match(e.message, message);
          assert.equal(e.message.includes('\n'), false);
          return true;
        },
      );
    });
  }
  it('the published schema is the one built from the limits table, and every shipped scenario names it and validates against it', () => {
    const published = JSON.parse(readFileSync(join(ROOT, 'schema', 'scenario.schema.json'), 'utf8')) as object;
    assert.deepEqual(published, scenarioSchema(familyNames(), DEFAULT_FAMILY.name), 'run npm run schema');
    const Ajv = createRequire(import.meta.url)('ajv') as { default: new (o: object) => { compile(s: object): (d: unknown) => boolean } };
    const check = new Ajv.default({ strict: false }).compile(published);
    for (const f of listScenarioFiles()) {
      const doc = JSON.parse(readFileSync(join(ROOT, 'scenarios', f), 'utf8')) as { $schema?: string };
      assert.equal(doc.$schema, '../schema/scenario.schema.json', f);
      assert.ok(check(doc), f);
    }
  });
  it('the flags and the schema share their limits (one table)', () => {
    const props = (
      scenarioSchema([], DEFAULT_FAMILY.name) as {
        properties: Record<string, { maximum?: number; properties?: Record<string, { exclusiveMinimum?: number; maximum?: number }> }>;
      }
    ).properties;
    assert.equal(props.workers?.maximum, LIMITS.workers.max);
    assert.equal(props.runs?.maximum, LIMITS.runs.max);
    assert.equal(props.soak?.properties?.maxCpuPercent?.exclusiveMinimum, LIMITS.maxCpuPercent.min);
    assert.throws(() => checkFlag('--max-cpu', 0, LIMITS.maxCpuPercent), /--max-cpu 0: pass a number more than 0 and at most 100/);
    assert.throws(() => checkFlag('--runs', 1.5, LIMITS.runs), /--runs 1\.5: pass a whole number from 1 to 1000/);
    assert.doesNotThrow(() => checkFlag('--soak', 0.5, LIMITS.soakSeconds));
  });
  it("the build's precompiled validator is made from today's schema (so a run never compiles it at start)", () => {
    const built = createRequire(import.meta.url)(join(ROOT, 'dist', 'bundle', 'scenario-validate.cjs')) as { schemaText: string };
    assert.equal(built.schemaText, JSON.stringify(scenarioSchema(familyNames(), DEFAULT_FAMILY.name)));
  });
  it('names the shipped scenarios when one is not found', () => {
    assert.throws(() => loadScenario('nope'), /scenario "nope": not found .*preload-vs-nopreload/);
  });
});
