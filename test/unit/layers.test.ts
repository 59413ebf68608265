import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers.js';

const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of every file of src/, as [importer, imported], paths relative to src/. */
function importGraph(): [string, string][] {
  const edges: [string, string][] = [];
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts'));
      edges.push([relative(SRC, file), relative(SRC, target)]);
    }
  }
  return edges;
}

const layer = (path: string): string => (path.includes('/') ? (path.split('/')[0] as string) : path.replace(/\.ts$/, ''));

/** Who may import whom: scenario → run → results ← render / export / check; proc and the roots at the bottom. */
const FORBIDDEN: Record<string, string[]> = {
  results: ['run', 'render', 'export', 'check', 'commands', 'scenario', 'servers', 'protocols', 'cli', 'snapshot'],
  proc: ['run', 'render', 'export', 'check', 'commands', 'scenario', 'servers', 'protocols', 'results', 'cli'],
  render: ['run', 'export', 'check', 'commands', 'protocols', 'cli'],
  export: ['run', 'check', 'commands', 'cli'],
  check: ['run', 'export', 'commands', 'cli'],
  run: ['render', 'export', 'check', 'commands', 'cli'],
  scenario: ['run', 'render', 'export', 'check', 'commands', 'cli'],
  servers: ['run', 'render', 'export', 'check', 'commands', 'scenario', 'protocols', 'cli'],
  protocols: ['run', 'render', 'export', 'check', 'commands', 'scenario', 'servers', 'cli'],
};

/** The paths CONTRIBUTING's architecture drawing names (folders end in /; files in .ts), relative to src/. */
export function drawnPaths(markdown: string): string[] {
  const section = markdown.slice(markdown.indexOf('## Architecture'));
  const drawing = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return [
    ...new Set([...drawing.matchAll(/(?:^|[\s(,])((?:[a-z-]+\/)+(?:[a-z-]+\.ts)?)/g)].map((m) => (m[1] as string).replace(/^src\//, ''))),
  ];
}

export function violations(edges: [string, string][]): string[] {
  return edges.filter(([from, to]) => FORBIDDEN[layer(from)]?.includes(layer(to))).map(([from, to]) => `${from} imports ${to}`);
}

describe('dependencies point one way', () => {
  it('the import graph is what the README says (results/ at the bottom; nothing reaches back up)', () => {
    const edges = importGraph();
    assert.ok(edges.length > 50, `read ${edges.length} imports`);
    assert.deepEqual(violations(edges), []);
  });
  it('the check fails when results/ imports run/', () => {
    assert.deepEqual(violations([['results/aggregate.ts', 'run/engine.ts']]), ['results/aggregate.ts imports run/engine.ts']);
  });
  it('no private API (an identifier starting with _ on an object) in bin/ or src/', () => {
    const offenders: string[] = [];
    for (const file of [...files(SRC), join(ROOT, 'bin', 'memcompare.cjs')]) {
      for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
        if (/\.\s*_[A-Za-z]\w*/.test(line.replace(/'[^']*'|"[^"]*"|`[^`]*`/g, ''))) offenders.push(`${relative(ROOT, file)}:${i + 1}`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});

describe('the architecture drawing', () => {
  it("every folder and file CONTRIBUTING's drawing names exists", () => {
    const drawn = drawnPaths(readFileSync(join(ROOT, 'CONTRIBUTING.md'), 'utf8'));
    assert.ok(drawn.length >= 10, drawn.join(', '));
    assert.ok(drawn.includes('run/stages/') && drawn.includes('protocols/'), drawn.join(', '));
    assert.deepEqual(
      drawn.filter((p) => !existsSync(join(SRC, p))),
      [],
    );
  });
  it('the check finds a folder that is not there', () => {
    const drawn = drawnPaths('## Architecture\n```\nrun/ ─► run/stages/ (launch) ─► gone/ and run/old.ts\n```\n');
    assert.deepEqual(
      drawn.filter((p) => !existsSync(join(SRC, p))),
      ['gone/', 'run/old.ts'],
    );
  });
});

describe('rooms of a size a reader can hold', () => {
  it("no source file over 400 lines but the results document's types", () => {
    const long = files(SRC)
      .map((f) => [relative(SRC, f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([f, n]) => n > 400 && f !== 'results/types.ts');
    assert.deepEqual(long, []);
  });
});

describe('names that cannot be confused', () => {
  it('one types.ts, one host module, no sample.ts beside sampler.ts; one METRICS', () => {
    const names = files(SRC).map((f) => relative(SRC, f));
    assert.deepEqual(
      names.filter((n) => n.endsWith('types.ts')),
      ['results/types.ts'],
    );
    assert.equal(names.filter((n) => /(^|\/)host\.ts$/.test(n)).length, 1);
    assert.ok(!names.includes('run/sample.ts'));
    const metrics = files(SRC).filter((f) => /export const METRICS\b/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(
      metrics.map((f) => relative(SRC, f)),
      ['results/metrics.ts'],
    );
  });
  it('entry points live in src/cli/, not beside the folders', () => {
    const top = readdirSync(SRC).filter((n) => n.endsWith('.ts'));
    for (const f of top) {
      const text = readFileSync(join(SRC, f), 'utf8');
      assert.ok(!/process\.argv|process\.exit\(/.test(text), `${f} reads argv or exits: it belongs in src/cli/`);
    }
    assert.ok(!top.some((n) => n.startsWith('_')), top.join(', '));
  });
});
