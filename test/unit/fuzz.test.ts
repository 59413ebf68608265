import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { main } from '../../src/cli/main.js';
import { MemcompareError } from '../../src/errors.js';
import { parseRollup, parseStatus, sumSmaps } from '../../src/proc/smaps.js';
import { readResults } from '../../src/results/file.js';
import { splitCommand } from '../../src/scenario/argv.js';
import { validateScenario } from '../../src/scenario/scenario.js';
import { ROOT, tempDir } from '../helpers.js';
import { makeResults } from '../results-fixture.js';

const RUNS = 1000;
const tmp = tempDir('memcompare-fuzz-');

/** Either fine, or a MemcompareError with a one-line message: never another error. */
function oneLineOrOk(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof MemcompareError, `not a MemcompareError: ${error}`);
    assert.equal(error.message.includes('\n'), false, error.message);
    assert.equal(error.exitCode, 2);
  }
}

/** Sets a random path of a JSON value to a random value. */
function mutate(doc: unknown, path: number[], value: unknown): unknown {
  if (path.length === 0 || typeof doc !== 'object' || doc === null) return value;
  const keys = Object.keys(doc);
  if (keys.length === 0) return value;
  const key = keys[(path[0] as number) % keys.length] as string;
  const copy = (Array.isArray(doc) ? [...doc] : { ...doc }) as Record<string, unknown>;
  copy[key] = mutate(copy[key], path.slice(1), value);
  return copy;
}

const procLine = fc.oneof(
  fc.string(),
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z_]{1,12}$/),
      fc.oneof(fc.nat(), fc.integer(), fc.double()),
      fc.constantFrom(' kB', 'kB', ' MB', '', ' kB '),
    )
    .map(([k, n, u]) => `${k}:  ${n}${u}`),
  fc.constantFrom(
    '55d0c0a00000-7ffd2b5fe000 ---p 00000000 00:00 0 [rollup]',
    'Uid:\t0\t0',
    'PPid:\tx',
    'VmSize:',
    'State:',
    'Name:\t(a b)',
  ),
);

describe('property-based: malformed input never crashes, never hangs', () => {
  it(`/proc text: rollup, smaps and status parsers (${RUNS} inputs each)`, () => {
    fc.assert(
      fc.property(fc.array(procLine, { maxLength: 40 }), (lines) => {
        const text = lines.join('\n');
        const r = parseRollup(text);
        for (const v of Object.values(r)) assert.ok(Number.isFinite(v) && v >= 0 && v % 1024 === 0);
        const s = sumSmaps(text);
        assert.ok(s.mappings >= 0);
        const st = parseStatus(text);
        assert.equal(typeof st.name, 'string');
      }),
      { numRuns: RUNS },
    );
  });

  it(`scenario files: ${RUNS} mutations of a valid one and random documents`, () => {
    const valid = JSON.parse(readFileSync(join(ROOT, 'scenarios', 'preload-vs-nopreload.json'), 'utf8')) as unknown;
    const base = join(ROOT, 'scenarios');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.array(fc.nat(), { maxLength: 4 }), fc.jsonValue()).map(([p, v]) => mutate(valid, p, v)),
          fc.jsonValue(),
        ),
        (doc) => {
          oneLineOrOk(() => validateScenario(doc, 'fuzz.json', base));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`results and baseline files: ${RUNS} truncations, mutations and random texts`, () => {
    const valid = makeResults();
    const text = JSON.stringify(valid, null, 2);
    const file = join(tmp, 'r.json');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.nat({ max: text.length }).map((n) => text.slice(0, n)),
          fc.tuple(fc.array(fc.nat(), { maxLength: 6 }), fc.jsonValue()).map(([p, v]) => JSON.stringify(mutate(valid, p, v))),
          fc.string(),
        ),
        (content) => {
          writeFileSync(file, content);
          oneLineOrOk(() => readResults(file, '--baseline'));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`command strings for --command: ${RUNS} inputs split as a POSIX shell (Python's shlex) splits them`, () => {
    // The reference is Python's shlex.split (POSIX mode), one process for all inputs. shlex does not
    // treat \$ inside double quotes as a shell does, so $ stays out of this alphabet (argv.test.ts has it).
    const inputs = fc.sample(fc.string({ unit: fc.constantFrom('a', ' ', "'", '"', '\\', '{', '}', 'p', '\t') }), RUNS);
    const ours = inputs.map((s) => {
      try {
        return splitCommand(s);
      } catch (error) {
        assert.ok(error instanceof MemcompareError && !error.message.includes('\n'), String(error));
        return 'error';
      }
    });
    const script =
      'import json,shlex,sys\nout=[]\nfor s in json.load(sys.stdin):\n  try: out.append(shlex.split(s))\n  except ValueError: out.append("error")\nprint(json.dumps(out))';
    const reference = JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(inputs), encoding: 'utf8' })) as unknown[];
    for (const [i, s] of inputs.entries()) assert.deepEqual(ours[i], reference[i], `input ${JSON.stringify(s)}`);
  });

  it(`command-line arguments: ${RUNS} generated argument lists get exit 0 or 2 and one line`, async () => {
    writeFileSync(join(tmp, 'ok.json'), JSON.stringify(makeResults()));
    const token = fc.oneof(
      fc.constantFrom(
        '--pid',
        '-p',
        '--tree',
        '--match',
        '-P',
        '--user',
        '-t',
        '-k',
        '-s',
        '-r',
        '-c',
        '-H',
        '--json',
        '--format',
        '-f',
        '--out',
        '--baseline',
        '--metric',
        '--scope',
        '--limit',
        '--floor',
        '--alpha',
        '--runs',
        '--workers',
        '--name',
        '--bogus',
        '-',
        '--',
        '(',
        '[',
        '1,,2',
        '-5',
        '0',
        '1e9',
        'pss',
        'wss',
        'xml',
        join(tmp, 'ok.json'),
        '/nonexistent/x.json',
      ),
      fc.string({ maxLength: 8 }).filter((s) => !s.includes('{port}')),
    );
    const argvs = fc.oneof(
      fc.tuple(fc.constant('snapshot'), fc.array(token, { maxLength: 6 })).map(([c, rest]) => [c, '--pid', '999999999', ...rest]),
      fc.tuple(fc.constantFrom('report', 'check'), fc.array(token, { maxLength: 6 })).map(([c, rest]) => [c, ...rest]),
      fc
        .tuple(
          fc.constant('run'),
          fc.array(
            token.filter((t) => t !== '--port'),
            { maxLength: 5 },
          ),
        )
        .map(([c, rest]) => [c, 'no-such-scenario-x', ...rest]),
      fc.array(token, { maxLength: 5 }),
    );
    // Outputs a fuzzed argv names (--out 1,,2) land in a folder of the test's own, not in the checkout.
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      await fc.assert(
        fc.asyncProperty(argvs, async (argv) => {
          let out = '';
          let err = '';
          const sink = (f: (s: string) => void) =>
            new Writable({
              write(chunk, _enc, cb) {
                f(String(chunk));
                cb();
              },
            });
          const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) });
          assert.ok([0, 2].includes(code), `exit ${code} for ${JSON.stringify(argv)}: ${err}`);
          if (code === 2) {
            assert.equal(err.trim().split('\n').length, 1, `one line for ${JSON.stringify(argv)}: ${err}`);
            assert.doesNotMatch(err, /internal error|\n\s+at /);
          }
          void out;
        }),
        { numRuns: RUNS },
      );
    } finally {
      process.chdir(cwd);
    }
  });
});
