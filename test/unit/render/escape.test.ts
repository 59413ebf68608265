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
    for (const verbose of [false, true]) {
      const out = renderRunSummary(hostile(), 100, verbose);
      assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f]/.test(out), JSON.stringify(out.slice(0, 200)));
      assert.ok(out.includes('\\x1b[31mred'), 'the escape shown as text');
    }
  });

  it('HTML report: outside its three scripts no element comes from a name; the embedded JSON cannot end its script and reads back unchanged', async () => {
    const doc = hostile();
    doc.variants[0]!.name = `</script><script>alert(3)</script>\u2028<!--${EVIL}`;
    const { text } = await (EXPORTERS.html as NonNullable<(typeof EXPORTERS)['html']>).render(doc, { assetPrefix: undefined });
    const scripts = [...text.matchAll(/<script\b[^>]*>/g)];
    assert.equal(scripts.length, 3, 'the data, the Vega runtime, the page script');
    // Each script ends at the first </script> after it opens: the data's must be the whole JSON.
    const open = text.indexOf('<script type="application/json" id="memcompare-data">');
    const body = text.slice(open).replace(/^<script[^>]*>/, '');
    const json = body.slice(0, body.search(/<\/script/i));
    const data = JSON.parse(json) as { document: ResultsDocument };
    assert.deepEqual(data.document, doc, 'the document reads back as it was');
    assert.ok(!/[\u2028\u2029]/.test(json) && !json.includes('<'));
    // The page without its scripts: names as text only.
    const page = text.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');
    const tags = new Set(elements(page));
    for (const bad of ['img', 'script', 'a', 'iframe']) assert.ok(!tags.has(bad), `<${bad}> in the HTML report`);
    assert.ok(page.includes('&#60;img src=x onerror=alert(1)&#62;') || page.includes('&lt;img src=x'), 'the name shown as text');
    assert.match(text, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
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
