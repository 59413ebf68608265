import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHART_VERSION } from '../../../src/export/charts.js';
import { RESULTS_SCHEMA_VERSION } from '../../../src/results/types.js';
import { ROOT } from '../../helpers.js';

/** The examples shipped in reports/ (scripts/example-report.sh): one per family and feature, all current. */
const REPORTS = join(ROOT, 'reports');
const EXPECTED = [
  'preload-vs-nopreload',
  'sweep',
  'preload-gc-freeze',
  'reload-staleness',
  'php-fpm-opcache',
  'worker-lifetime',
  'celery-import-in-parent',
];

describe('the examples in reports/ are current', () => {
  const results = readdirSync(REPORTS)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => 'scenario' in (JSON.parse(readFileSync(join(REPORTS, f), 'utf8')) as object));

  it('every shipped family and feature has an example, in JSON, Markdown and HTML', () => {
    for (const name of EXPECTED) {
      for (const ext of ['json', 'md', 'html'])
        assert.ok(existsSync(join(REPORTS, `${name}.${ext}`)), `reports/${name}.${ext}: run scripts/example-report.sh`);
    }
  });

  it("each was made by this code's results schema and chart version (else: scripts/example-report.sh)", () => {
    for (const f of results) {
      const name = f.replace(/\.json$/, '');
      const doc = JSON.parse(readFileSync(join(REPORTS, f), 'utf8')) as { schemaVersion?: number };
      assert.equal(doc.schemaVersion, RESULTS_SCHEMA_VERSION, `reports/${f}: results schema`);
      const md = readFileSync(join(REPORTS, `${name}.md`), 'utf8');
      assert.match(
        md,
        new RegExp(`<!-- memcompare-charts: ${CHART_VERSION}; memcompare-schema: ${RESULTS_SCHEMA_VERSION} -->`),
        `reports/${name}.md: made by older charts`,
      );
      const html = readFileSync(join(REPORTS, `${name}.html`), 'utf8');
      assert.ok(html.includes(`<meta name="memcompare-charts" content="${CHART_VERSION}">`), `reports/${name}.html: made by older charts`);
      assert.ok(
        html.includes(`<meta name="memcompare-schema" content="${RESULTS_SCHEMA_VERSION}">`),
        `reports/${name}.html: results schema`,
      );
      // Every chart the Markdown links is there.
      for (const [, svg] of md.matchAll(/\]\(([^)]+\.svg)\)/g)) assert.ok(existsSync(join(REPORTS, svg as string)), `reports/${svg}`);
    }
  });

  it('the HTML of the seed comparison is one file under 2 MB', () => {
    assert.ok(statSync(join(REPORTS, 'preload-vs-nopreload.html')).size < 2_000_000);
  });
});
