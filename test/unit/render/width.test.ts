import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { evaluateGate } from '../../../src/check/gate.js';
import { renderGateTable } from '../../../src/check/render.js';
import { parseMappings, sumMappings } from '../../../src/proc/mappings.js';
import { DEFAULT_MAPPING_COLUMNS, MAPPING_COLUMNS } from '../../../src/render/mapping-table.js';
import { renderSmemTable } from '../../../src/render/smem-table.js';
import { renderSweep } from '../../../src/render/sweep.js';
import { boxTable } from '../../../src/render/table.js';
import { renderRunSummary } from '../../../src/render/terminal.js';
import type { ResultsDocument } from '../../../src/results/types.js';
import { FIXTURES, ROOT } from '../../helpers.js';
import { makeResults } from '../../results-fixture.js';

const wide = (text: string, width: number) => text.split('\n').filter((l) => [...l].length > width);
const report = (name: string) => JSON.parse(readFileSync(join(ROOT, 'reports', `${name}.json`), 'utf8')) as ResultsDocument;

describe('terminal output fits the terminal', () => {
  for (const width of [80, 100]) {
    it(`at ${width} columns: run summaries, sweep, gate and mapping tables`, () => {
      for (const name of ['preload-vs-nopreload', 'preload-gc-freeze', 'reload-staleness', 'sweep']) {
        assert.deepEqual(wide(renderRunSummary(report(name), width), width), [], name);
      }
      assert.deepEqual(wide(renderSweep(report('sweep'), width), width), []);
      const doc = makeResults();
      assert.deepEqual(wide(renderGateTable(evaluateGate(doc, doc), width), width), []);
      const rows = sumMappings([parseMappings(readFileSync(join(FIXTURES, 'proc', '200', 'smaps'), 'utf8'))]);
      const table = renderSmemTable(rows, { columnSet: MAPPING_COLUMNS, columns: DEFAULT_MAPPING_COLUMNS, totals: true, width });
      assert.deepEqual(wide(table, width), []);
    });
  }

  it('too many columns for the width: one block per row, every value kept', () => {
    const head = ['Metric', ...Array.from({ length: 9 }, (_, i) => `variant-number-${i}`)];
    const rows = [['PSS total', ...Array.from({ length: 9 }, (_, i) => `${100 + i}.0 MiB (99.0–101.0)`)]];
    const out = boxTable(head, rows, 80);
    assert.deepEqual(wide(out, 80), []);
    for (let i = 0; i < 9; i++) assert.ok(out.includes(`${100 + i}.0 MiB (99.0–101.0)`));
  });

  it('piped (no width): tables stay whole, one line per row', () => {
    const out = renderRunSummary(report('preload-vs-nopreload'));
    assert.ok(wide(out, 100).length > 0, 'the whole table is wider than 100 columns');
    assert.ok(out.includes('│ PSS per worker'), 'no wrapping');
  });
});
