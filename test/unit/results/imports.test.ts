import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderImportTree } from '../../../src/render/imports.js';
import { afterForkImports, type ImportProcess, type ImportRecord, importTotal, importTree } from '../../../src/results/imports.js';
import { readImportRecords } from '../../../src/run/import-probe.js';
import { tempDir } from '../../helpers.js';

const base = tempDir('memcompare-imports-test-');

const MiB = 1048576;
const rec = (module: string, parent: string | null, inclusiveMiB: number, exclusiveMiB: number, afterFork = false): ImportRecord => ({
  module,
  parent,
  inclusiveBytes: inclusiveMiB * MiB,
  exclusiveBytes: exclusiveMiB * MiB,
  ms: 1,
  afterFork,
});

describe('import trees from the probe', () => {
  it('records in the order they ended become a tree under the import that made each, largest first', () => {
    // wsgi imports os (already there: not recorded), matplotlib.pyplot (which imports numpy first), then json.
    const records = [
      rec('numpy.core', 'numpy', 8, 1),
      rec('numpy', 'matplotlib.pyplot', 16, 8),
      rec('matplotlib.figure', 'matplotlib.pyplot', 6, 6),
      rec('matplotlib.pyplot', 'wsgi', 40, 18),
      rec('json', 'wsgi', 0.5, 0.5),
      rec('wsgi', null, 40.6, 0.1),
    ];
    const tree = importTree(records);
    assert.equal(tree.length, 1);
    assert.equal(importTotal(tree), 40.6 * MiB);
    const pyplot = tree[0]?.children[0];
    assert.deepEqual(
      tree[0]?.children.map((n) => n.module),
      ['matplotlib.pyplot', 'json'],
    );
    assert.deepEqual(
      pyplot?.children.map((n) => n.module),
      ['numpy', 'matplotlib.figure'],
    );
    assert.deepEqual(
      pyplot?.children[0]?.children.map((n) => n.module),
      ['numpy.core'],
    );
    const text = renderImportTree(tree, 1 * MiB);
    assert.match(text, /^ {4}40\.6 MiB {2}wsgi \(itself 0\.1 MiB\)$/m);
    assert.match(text, /^ {8}16\.0 MiB {2}numpy \(itself 8\.0 MiB\)$/m);
    assert.doesNotMatch(text, /json/);
    assert.match(text, /1 imports under 1\.0 MiB/);
  });

  it("the workers' imports after the fork: the outermost one counted, its cost per worker the median, largest total first", () => {
    const worker = (pid: number, plotMiB: number): ImportProcess => ({
      pid,
      ppid: 10,
      forked: true,
      startPrivateBytes: 0,
      imports: [
        rec('matplotlib.figure', 'matplotlib.pyplot', 6, 6, true),
        rec('matplotlib.pyplot', 'views', plotMiB, plotMiB - 6, true),
        rec('csv', 'views', 0.2, 0.2, true),
      ],
    });
    const after = afterForkImports([worker(11, 27), worker(12, 29), worker(13, 28)]);
    assert.deepEqual(
      after.map((a) => [a.module, a.bytesPerWorker / MiB, a.workers]),
      [
        ['matplotlib.pyplot', 28, [11, 12, 13]],
        ['csv', 0.2, [11, 12, 13]],
      ],
    );
    assert.deepEqual(afterForkImports([{ ...worker(14, 27), imports: [rec('numpy', null, 9, 9, false)] }]), []);
  });

  it("reads the probe's files: a header and one line per import; a line cut by a kill is skipped", () => {
    const dir = mkdtempSync(join(base, 'probe-'));
    writeFileSync(
      join(dir, 'imports-42.jsonl'),
      `${JSON.stringify({ pid: 42, ppid: 1, forked: false, startPrivateBytes: 4096 })}\n${JSON.stringify({ module: 'numpy', parent: null, inclusiveBytes: 9, exclusiveBytes: 9, ms: 3, afterFork: false })}\n{"module": "matpl`,
    );
    writeFileSync(join(dir, 'other.txt'), 'not ours');
    const [p, ...rest] = readImportRecords(dir);
    assert.deepEqual(rest, []);
    assert.equal(p?.pid, 42);
    assert.equal(p?.startPrivateBytes, 4096);
    assert.deepEqual(
      p?.imports.map((r) => r.module),
      ['numpy'],
    );
  });
});
