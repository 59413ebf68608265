import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ResultsDocument } from '../../src/results/types.js';
import { cli, tempDir } from '../helpers.js';

const MiB = 1048576;

// Three routes, one gunicorn worker: /report keeps a 16 KiB bytearray a call, /export builds a 40 MiB body and
// drops it (its USS rises for the tens of milliseconds it takes, then falls), / does neither.
const APP = `import os

KEPT = []


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/report":
        KEPT.append(bytearray(16384))
        body = b"report"
    elif path == "/export":
        big = b"x" * (40 * 1048576)
        body = b"export %d" % len(big)
        del big
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Length", str(len(body))), ("X-Worker-Pid", str(os.getpid()))])
    return [body]
`;

describe('routes: growth and transient peaks per route (run --path)', { timeout: 300_000 }, () => {
  it('/report keeps ~16 KiB a call, /export peaks at 40 MiB and keeps nothing, / keeps nothing', () => {
    const dir = tempDir('memcompare-routes-');
    writeFileSync(join(dir, 'app.py'), APP);
    const out = join(dir, 'out.json');
    const r = cli(
      [
        'run',
        '--command',
        'gunicorn -w 1 -b 127.0.0.1:{port} app:application',
        '--cwd',
        dir,
        '--path',
        '/',
        '--path',
        '/report',
        '--path',
        '/export',
        '--soak',
        '9',
        '--runs',
        '1',
        '--no-throughput',
        '--no-lock',
        '--json',
        out,
      ],
      { timeoutMs: 240_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as ResultsDocument;
    const routes = doc.variants[0]?.runs[0]?.soak?.routes;
    assert.ok(routes, 'the soak recorded its routes');
    const by = Object.fromEntries(routes.byRoute.map((x) => [x.path, x]));
    const [index, report, exporter] = [by['/'], by['/report'], by['/export']];
    assert.ok(index && report && exporter);
    const shown = JSON.stringify(
      routes.byRoute.map((x) => [x.path, Math.round(x.bytesPerRequest), x.r2.toFixed(2), x.transientPeakBytes, x.requests]),
    );
    assert.ok(Math.abs(report.bytesPerRequest - 16384) / 16384 <= 0.15, shown);
    assert.ok(Math.abs(index.bytesPerRequest) < 1024, shown);
    assert.ok(Math.abs(exporter.bytesPerRequest) < 1024, shown);
    assert.ok(exporter.transientPeakBytes >= 0.75 * 40 * MiB, shown);
    assert.ok(index.transientPeakBytes < 0.25 * 40 * MiB, shown);
    assert.ok(routes.peakReadEveryMs > 0 && routes.peakReadEveryMs < 30, `peaks read every ${routes.peakReadEveryMs} ms`);
    // The sampler's budget held while it read the peaks.
    const soak = doc.variants[0]?.runs[0]?.soak;
    assert.ok((soak?.samplerCpuPercent ?? 100) <= (soak?.maxCpuPercent ?? 10) * 1.2, `${soak?.samplerCpuPercent}% of a core`);
    assert.match(r.stdout, /\/report keeps 1[5-7]\.\d KiB a call/);
    assert.match(r.stdout, /\/export peaks \+[3-4]\d\.\d MiB while served/);
  });
});
