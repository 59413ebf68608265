import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import MarkdownIt from 'markdown-it';
import { evaluateGate } from '../../../src/check/gate.js';
import { renderGateMarkdown, renderGateTable } from '../../../src/check/render.js';
import { pssSplitSpec, renderSvg, totalPssSpec } from '../../../src/export/charts.js';
import { EXPORTERS } from '../../../src/export/index.js';
import { mapStrings, mdText, termText } from '../../../src/render/markup.js';
import { renderRunSummary } from '../../../src/render/terminal.js';
import type { ResultsDocument } from '../../../src/results/types.js';
import { makeResults } from '../../results-fixture.js';

const EVIL = '<img src=x onerror=alert(1)>| evil \n# Heading';
const EVIL2 = '[click](javascript:alert(2)) *bold* `code` \u001b[31mred\u001b[0m\r';

/** A results document from another machine, with hostile strings in every free-text place. */
function hostile(): ResultsDocument {
  const renamed = mapStrings(makeResults(), (s) => (s === 'lazy' ? EVIL : s === 'preload' ? EVIL2 : s));
  renamed.scenario.name = `${EVIL} scenario`;
  renamed.scenario.description = `- ${EVIL}`;
  for (const v of renamed.variants) {
    v.command = ['gunicorn', EVIL, EVIL2];
    for (const r of v.runs) for (const p of r.processes) p.command = `${EVIL2} ${EVIL}`;
  }
  renamed.host.os = EVIL;
  renamed.host.server = EVIL2;
  renamed.warnings = [{ kind: 'noisy', variant: EVIL, message: EVIL2, remedy: EVIL }];
  renamed.complete = false;
  renamed.incompleteReason = EVIL;
  return renamed;
}

const md = new MarkdownIt({ html: true, linkify: true });
/** What a browser would get: HTML elements the Markdown created. */
function elements(html: string): string[] {
  return [...html.matchAll(/<([a-z][a-z0-9]*)\b/g)].map((m) => m[1] as string);
}

describe('hostile strings are escaped for every medium', () => {
  it('Markdown report: no HTML, link or heading comes from a name; tables keep their shape', async () => {
    const doc = hostile();
    const { text } = await (EXPORTERS.markdown as NonNullable<(typeof EXPORTERS)['markdown']>).render(doc, { assetPrefix: undefined });
    const html = md.render(text);
    const tags = new Set(elements(html));
    for (const bad of ['img', 'script', 'a']) assert.ok(!tags.has(bad), `<${bad}> in the rendered report`);
    assert.ok(!html.includes('<em>bold</em>') && !html.includes('<code>code</code>'), 'no emphasis or code span from a name');
    assert.equal((html.match(/<h1>/g) ?? []).length, 1, 'one title, no heading from a name');
    assert.ok(!/onerror=/.test(html.replace(/&lt;img src=x onerror=alert\(1\)&gt;/g, '')), 'onerror only as text');
    assert.ok(!text.includes('\u001b') && !text.includes('\r'), 'no control characters');
    // Every row of every table has as many cells as its header.
    for (const table of html.split('<table>').slice(1)) {
      const head = ((table.split('</thead>')[0] ?? '').match(/<th[ >]/g) ?? []).length;
      for (const row of (table.split('<tbody>')[1] ?? '').split('</tr>').slice(0, -1)) {
        assert.equal((row.match(/<td[ >]/g) ?? []).length, head, `row ${row.slice(0, 120)}`);
      }
    }
    // The names are still there, as text.
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;| evil  # Heading'), 'the name shown as text');
  });

  it('job summary (check --summary): no HTML and the table row stays one row', () => {
    const doc = hostile();
    const rows = evaluateGate(doc, doc);
    assert.ok(rows.length > 0);
    const html = md.render(renderGateMarkdown(rows, EVIL));
    const tags = new Set(elements(html));
    for (const bad of ['img', 'script', 'a', 'em']) assert.ok(!tags.has(bad), `<${bad}> in the job summary`);
    assert.equal((html.match(/<h[1-6]>/g) ?? []).length, 1);
    assert.ok(!renderGateTable(rows).includes('\u001b'));
  });

  it('SVG charts: names are text nodes, never elements', async () => {
    const doc = mapStrings(hostile(), (s) => s.replace(/[\u0000-\u001f]/g, ' '));
    for (const spec of [pssSplitSpec(doc), totalPssSpec(doc)]) {
      const svg = await renderSvg(spec);
      assert.ok(!/<img|<script|<foreignObject/i.test(svg), 'no element from a name');
      assert.ok(svg.includes('&lt;img src=x'), 'the name is in the chart, escaped');
      new XMLParser().parse(svg); // well-formed
    }
  });

  it('terminal: no escape sequence or carriage return reaches it; the names are shown visibly', () => {
    const out = renderRunSummary(hostile());
    assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f]/.test(out), JSON.stringify(out.slice(0, 200)));
    assert.ok(out.includes('\\x1b[31mred'), 'the escape shown as text');
  });

  it('mdText and termText, case by case', () => {
    assert.equal(mdText('a_b*c'), 'a\\_b\\*c');
    assert.equal(mdText('- item'), '\\- item');
    assert.equal(mdText('1. first'), '1\\. first');
    assert.equal(mdText('x\ny'), 'x y');
    assert.equal(termText('a\u001b[2Jb\n'), 'a\\x1b[2Jb\\n');
    assert.equal(termText('plain'), 'plain');
  });
});
