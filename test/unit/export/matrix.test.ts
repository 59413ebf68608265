import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMatrixJson, renderMatrixMarkdown } from '../../../src/export/matrix.js';
import { makeResults } from '../../results-fixture.js';

describe('several results documents side by side (a CI matrix)', () => {
  const py311 = makeResults();
  py311.host = {
    ...py311.host,
    os: 'Debian 12',
    kernel: '6.1.0',
    software: { interpreter: 'Python 3.11.2', packages: { numpy: '1.24.2' } },
  };
  const py312 = makeResults({ extraWorkerMib: 3 });
  py312.host = {
    ...py312.host,
    os: 'Ubuntu 24.04',
    kernel: '6.8.0',
    software: { interpreter: 'Python 3.12.3', packages: { numpy: '1.26.4' } },
  };
  const entries = [
    { file: 'py311.json', doc: py311 },
    { file: 'py312.json', doc: py312 },
  ];

  it("Markdown: each document's host and software, then every variant of each", () => {
    const md = renderMatrixMarkdown(entries);
    assert.match(md, /\| py311\.json \| .* \| Debian 12 \| 6\.1\.0 \| .* \| Python 3\.11\.2; numpy 1\.24\.2 \|/);
    assert.match(md, /\| py312\.json \| .* \| Ubuntu 24\.04 \| 6\.8\.0 \| .* \| Python 3\.12\.3; numpy 1\.26\.4 \|/);
    const memoryRows =
      md
        .split('## Memory')[1]
        ?.split('\n')
        .filter((l) => /^\| py31/.test(l)) ?? [];
    assert.equal(memoryRows.length, 4);
  });
  it('JSON: one entry per document with its host and summary', () => {
    const j = JSON.parse(renderMatrixJson(entries));
    assert.deepEqual(
      j.documents.map((d: { file: string; host: { kernel: string } }) => [d.file, d.host.kernel]),
      [
        ['py311.json', '6.1.0'],
        ['py312.json', '6.8.0'],
      ],
    );
    assert.equal(j.documents[1].summary.variants.length, 2);
  });
});
