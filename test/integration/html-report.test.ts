import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { mapStrings } from '../../src/render/markup.js';
import { cli, ROOT } from '../helpers.js';
import { makeResults } from '../results-fixture.js';

/**
 * The HTML report in a real browser (issue 29): Debian's Chromium, driven by playwright-core, opens
 * the file from file:// and is asked what a reader sees. Skipped only where no Chromium is installed,
 * never in CI.
 */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const skip = CHROMIUM === undefined && process.env.CI !== 'true' ? 'no Chromium installed (apt-get install chromium)' : false;

interface Opened {
  page: Page;
  requests: string[];
  errors: string[];
  ms: number;
}

declare global {
  interface Window {
    memcompare: {
      ready: Promise<unknown>;
      state: { metric: string; hidden: Set<string> };
      views: Record<string, { scenegraph(): { root: unknown } }>;
      data: { variants: string[]; charts: Record<string, { rows: Record<string, number> }>; document: { variants: { name: string }[] } };
    };
    pwned?: number;
  }
}

describe('the HTML report in Chromium', { skip, timeout: 300_000 }, () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'memcompare-html-'));
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(file: string, hash = ''): Promise<Opened> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    const url = `${pathToFileURL(file).href}${hash}`;
    page.on('request', (r) => {
      if (r.url() !== url && r.url() !== pathToFileURL(file).href) requests.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const t0 = performance.now();
    await page.goto(url);
    await page.evaluate(() => window.memcompare.ready.then(() => true));
    return { page, requests, errors, ms: performance.now() - t0 };
  }

  /** Items of each chart's main mark (one per data row), from the Vega scenegraph. */
  const markCounts = (page: Page) =>
    page.evaluate(() => {
      const out: Record<string, number> = {};
      type Node = { name?: string; items?: { items?: Node[] }[] };
      for (const [key, view] of Object.entries(window.memcompare.views)) {
        let n = 0;
        const walk = (mark: Node) => {
          if (mark.name === 'primary_marks') n += mark.items?.length ?? 0;
          for (const item of mark.items ?? []) for (const child of item.items ?? []) walk(child);
        };
        walk(view.scenegraph().root as Node);
        out[key] = n;
      }
      return out;
    });
  const expectedRows = (page: Page, hidden: string[] = []) =>
    page.evaluate((h) => {
      const out: Record<string, number> = {};
      for (const [key, c] of Object.entries(window.memcompare.data.charts)) {
        out[key] = Object.entries(c.rows).reduce((s, [v, n]) => s + (h.includes(v) ? 0 : n), 0);
      }
      return out;
    }, hidden);

  it('a real run: offline, no error, every chart drawn, tooltips, hiding a variant, the metric switch, the hash, sorting', async () => {
    const html = join(dir, 'seed.html');
    const json = join(dir, 'seed.json');
    const run = cli(['run', 'preload-vs-nopreload', '--runs', '1', '--json', json, '--html', html, '-q'], { timeoutMs: 240_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(statSync(html).size < 2_000_000, `${statSync(html).size} bytes`);
    const { page, requests, errors, ms } = await open(html);
    process.stdout.write(`# seed report drawn in ${ms.toFixed(0)} ms\n`);
    assert.deepEqual(requests, [], 'no request leaves the page');
    assert.deepEqual(errors, []);
    const counts = await markCounts(page);
    const rows = await expectedRows(page);
    assert.deepEqual(Object.keys(counts).sort(), ['latency', 'processes', 'split', 'total', 'where'].sort());
    assert.deepEqual(counts, rows);
    for (const n of Object.values(counts)) assert.ok(n > 0);

    // A tooltip shows the exact figure, pid and run of the bar under the pointer.
    const first = page.locator('[data-chart="processes"] .primary_marks path').first();
    const datum = await page.evaluate(() => {
      type Node = { name?: string; items?: { datum?: Record<string, unknown>; items?: Node[] }[] };
      let found: Record<string, unknown> | undefined;
      const walk = (mark: Node) => {
        if (mark.name === 'primary_marks' && !found) found = mark.items?.[0]?.datum;
        for (const item of mark.items ?? []) for (const child of item.items ?? []) walk(child);
      };
      walk(window.memcompare.views.processes?.scenegraph().root as Node);
      return found;
    });
    assert.ok(datum);
    await first.hover();
    const tip = page.locator('#tooltip');
    await tip.waitFor({ state: 'visible', timeout: 5_000 });
    const text = (await tip.textContent()) ?? '';
    assert.match(text, new RegExp(`pid: ${datum.pid}`));
    assert.match(text, new RegExp(`run: ${datum.run}`));
    assert.match(text, new RegExp(`PSS, MiB: ${(datum.mib as number).toFixed(2)}`));

    // Hiding a variant removes its marks from every chart, and the hash keeps it.
    const variants = await page.evaluate(() => window.memcompare.data.variants);
    await page.locator(`#variants input[value="${variants[0]}"]`).uncheck();
    await page.evaluate(() => window.memcompare.ready.then(() => true));
    assert.deepEqual(await markCounts(page), await expectedRows(page, [variants[0] as string]));
    assert.ok(Object.values(await expectedRows(page, [variants[0] as string])).some((n, i) => n < (Object.values(rows)[i] as number)));
    assert.match(page.url(), /hide=nopreload/);

    // The metric switch changes the per-process chart's axis.
    const axis = () => page.locator('[data-chart="processes"] .role-axis-title text').allTextContents();
    assert.ok(
      (await axis()).some((t) => t === 'PSS (MiB)'),
      String(await axis()),
    );
    await page.selectOption('#metric', 'uss');
    await page.evaluate(() => window.memcompare.ready.then(() => true));
    assert.ok(
      (await axis()).some((t) => t === 'USS (private) (MiB)'),
      String(await axis()),
    );
    assert.match(page.url(), /metric=uss/);

    // The view state comes back from the URL.
    const again = await open(html, new URL(page.url()).hash);
    assert.equal(await again.page.locator('#metric').inputValue(), 'uss');
    assert.equal(await again.page.locator(`#variants input[value="${variants[0]}"]`).isChecked(), false);
    assert.deepEqual(await markCounts(again.page), await expectedRows(again.page, [variants[0] as string]));

    // The mapping table sorts by a column, largest first on the second click.
    const column = again.page.locator('#mapping-table th').nth(3);
    await column.click();
    await column.click();
    const values = await again.page.$$eval('#mapping-table tbody tr td:nth-child(4)', (tds) =>
      tds.map((td) => Number((td as HTMLElement).dataset.value)),
    );
    assert.ok(values.length > 2);
    assert.deepEqual(
      values,
      [...values].sort((a, b) => b - a),
    );
    // A click on a variant's legend entry hides it too.
    const fresh = await open(html);
    await fresh.page.locator('[data-chart="processes"] .role-legend-label text', { hasText: new RegExp(`^${variants[1]}$`) }).click();
    await fresh.page.evaluate(() => window.memcompare.ready.then(() => true));
    assert.equal(await fresh.page.locator(`#variants input[value="${variants[1]}"]`).isChecked(), false);
    assert.deepEqual(await markCounts(fresh.page), await expectedRows(fresh.page, [variants[1] as string]));
    assert.deepEqual([...requests, ...again.requests, ...fresh.requests], []);
    assert.deepEqual([...errors, ...again.errors, ...fresh.errors], []);
  });

  it('hostile strings render inertly: no script runs, no element forms, the text is shown as text', async () => {
    const evil = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2">\u2028<!--';
    const doc = mapStrings(makeResults(), (s) => (s === 'lazy' ? evil : s));
    doc.scenario.name = evil;
    doc.warnings = [{ kind: 'noisy', variant: evil, message: evil, remedy: evil }];
    const results = join(dir, 'hostile.json');
    writeFileSync(results, JSON.stringify(doc));
    const html = join(dir, 'hostile.html');
    const r = cli(['report', results, '-f', 'html', '--out', html]);
    assert.equal(r.status, 0, r.stderr);
    const { page, requests, errors } = await open(html);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], 'the <img> would have been a request');
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    assert.equal(await page.locator('body img').count(), 0);
    assert.equal(await page.locator('script').count(), 3, 'the data, the runtime and the page script: no other');
    assert.equal(await page.locator('h1').textContent(), `memcompare: ${evil.replace('\u2028', ' ')}`);
    const names = await page.evaluate(() => window.memcompare.data.document.variants.map((v) => v.name));
    assert.ok(names.includes(evil), 'the embedded document reads back unchanged');
  });

  it('every HTML example in reports/ opens offline and draws every chart', async () => {
    const examples = readdirSync(join(ROOT, 'reports')).filter((f) => f.endsWith('.html'));
    assert.ok(examples.length > 0, 'reports/ has HTML examples');
    for (const f of examples) {
      const { page, requests, errors } = await open(join(ROOT, 'reports', f));
      assert.deepEqual(requests, [], f);
      assert.deepEqual(errors, [], f);
      assert.deepEqual(await markCounts(page), await expectedRows(page), f);
      // Memory over time zooms: the wheel over the chart narrows its time axis.
      if (await page.locator('[data-chart="soakTotal"]').count()) {
        const domain = () =>
          page.evaluate(() =>
            (window.memcompare.views.soakTotal as unknown as { scale(n: string): { domain(): number[] } }).scale('x').domain(),
          );
        const before = await domain();
        const chart = page.locator('[data-chart="soakTotal"] svg');
        await chart.scrollIntoViewIfNeeded();
        const box = await chart.boundingBox();
        assert.ok(box, f);
        // The middle of the plot (the legend sits below it).
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2 - 40);
        await page.mouse.wheel(0, -400);
        await page.waitForFunction(
          (b) => {
            const d = (window.memcompare.views.soakTotal as unknown as { scale(n: string): { domain(): number[] } }).scale('x').domain();
            return (d[1] as number) - (d[0] as number) < (b[1] as number) - (b[0] as number);
          },
          before,
          { timeout: 5_000 },
        );
      }
      await page.close();
    }
  });
});
