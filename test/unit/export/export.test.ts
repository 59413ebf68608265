import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import MarkdownIt from 'markdown-it';
import { EXPORTERS } from '../../../src/export/index.js';
import { schemaProblem } from '../../../src/results/file.js';
import { makeResults } from '../../results-fixture.js';

const doc = makeResults();
const render = (format: string) => (EXPORTERS[format] as NonNullable<(typeof EXPORTERS)[string]>).render(doc, { assetPrefix: 'report' });

describe('exporters, on a hand-built results document', () => {
  it('the fixture itself satisfies the published JSON Schema, and a broken one does not', () => {
    assert.equal(schemaProblem(doc), undefined);
    const broken = structuredClone(doc) as unknown as { variants: Array<{ runs: Array<{ processes: Array<{ pssBytes: unknown }> }> }> };
    (broken.variants[0]?.runs[0]?.processes[0] as { pssBytes: unknown }).pssBytes = '12M';
    assert.match(schemaProblem(broken) ?? '', /\/variants\/0\/runs\/0\/processes\/0\/pssBytes must be integer/);
  });

  it('markdown: tables and chart links that a Markdown parser sees', async () => {
    const out = await render('markdown');
    const tokens = new MarkdownIt().parse(out.text, {});
    const tables = tokens.filter((t) => t.type === 'table_open').length;
    assert.equal(tables, 1 + 2 + 1, 'comparison, one process table per variant, host');
    const headers = tokens.filter((t) => t.type === 'inline' && tokens[tokens.indexOf(t) - 1]?.type === 'th_open').map((t) => t.content);
    for (const h of [
      'Metric',
      'lazy',
      'preload',
      'Saving (preload)',
      'Ratio (preload)',
      'PID',
      'Role',
      'Command',
      'Swap',
      'USS',
      'PSS',
      'RSS',
      'Kernel',
    ]) {
      assert.ok(headers.includes(h), `header ${h} in ${headers.join(', ')}`);
    }
    const images = tokens.flatMap((t) => t.children ?? []).filter((t) => t.type === 'image');
    assert.deepEqual(
      images.map((i) => i.attrGet('src')),
      out.files.map((f) => f.name),
    );
    assert.ok(tokens.some((t) => t.type === 'fence' && t.info === 'mermaid' && t.content.startsWith('xychart-beta')));
    assert.match(out.text, /\*\*preload\*\* vs lazy: total PSS/);
    assert.match(
      out.text,
      /## Warnings\n\n- \*\*idle-worker\*\* \(lazy run 1\): 1 of 2 workers served no request\. \*What to do:\* raise warmup\.requests\./,
    );
    assert.match(out.text, /## Method/);
  });

  it('markdown: charts are well-formed, non-empty SVG with axis titles, units, variants and a legend', async () => {
    const out = await render('markdown');
    assert.equal(out.files.length, 2);
    for (const f of out.files) {
      assert.equal(XMLValidator.validate(f.content), true, `${f.name} is well-formed XML`);
      assert.match(f.content, /^<svg/);
      assert.ok(f.content.length > 2000, `${f.name} has content`);
      assert.match(f.content, /MiB/);
      assert.match(f.content, />lazy</);
      assert.match(f.content, />preload</);
    }
    const split = out.files[0]?.content ?? '';
    assert.match(split, />process</);
    assert.match(split, />PSS \(MiB\)</);
    assert.match(split, />private \(USS\)</);
    assert.match(split, />shared \(PSS − USS\)</);
    assert.match(out.files[1]?.content ?? '', />total PSS \(MiB\)</);
  });

  it('markdown to stdout: no side files, and it says where charts go', async () => {
    const out = await (EXPORTERS.markdown as NonNullable<(typeof EXPORTERS)[string]>).render(doc, { assetPrefix: undefined });
    assert.deepEqual(out.files, []);
    assert.match(out.text, /SVG charts are written beside the report when it goes to a file \(`--out FILE`\)/);
    assert.doesNotMatch(out.text, /!\[/);
  });

  it('csv: a header and one row per variant and metric', async () => {
    const lines = (await render('csv')).text.trim().split('\n');
    assert.equal(lines[0], 'scenario,variant,metric,runs,median_bytes,min_bytes,max_bytes,spread_percent');
    assert.equal(lines.length, 1 + 2 * 7);
    assert.match(lines[1] as string, /^fixture,lazy,pss-per-worker,3,\d+,\d+,\d+,\d+\.\d{3}$/);
  });

  it('gab: github-action-benchmark customSmallerIsBetter entries', async () => {
    const entries = JSON.parse((await render('gab')).text) as Array<Record<string, unknown>>;
    assert.equal(entries.length, 14);
    for (const e of entries) {
      assert.deepEqual(Object.keys(e).sort(), ['extra', 'name', 'range', 'unit', 'value']);
      assert.equal(typeof e.value, 'number');
      assert.equal(e.unit, 'MiB');
      assert.match(e.range as string, /^± \d+\.\d+$/);
    }
    assert.ok(entries.some((e) => e.name === 'fixture/preload: PSS per worker'));
  });

  it('bmf: Bencher Metric Format, value within lower and upper', async () => {
    const bmf = JSON.parse((await render('bmf')).text) as Record<
      string,
      Record<string, { value: number; lower_value: number; upper_value: number }>
    >;
    assert.deepEqual(Object.keys(bmf), ['fixture/lazy', 'fixture/preload']);
    for (const measures of Object.values(bmf)) {
      assert.equal(Object.keys(measures).length, 7);
      for (const m of Object.values(measures)) assert.ok(m.lower_value <= m.value && m.value <= m.upper_value);
    }
  });

  it('json and table render the same document', async () => {
    assert.deepEqual(JSON.parse((await render('json')).text), doc);
    assert.match((await render('table')).text, /PSS per worker/);
  });
});
