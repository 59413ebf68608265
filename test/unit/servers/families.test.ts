import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { OPTIONAL_FIELDS, type ServerFamily } from '../../../src/servers/family.js';
import { FAMILIES, familyForCommand } from '../../../src/servers/registry.js';
import { ROOT } from '../../helpers.js';

const SRC = join(ROOT, 'src');
const REGISTRY = 'servers/registry.ts';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The files that are a family's own: its module. */
function ownFiles(f: ServerFamily, all: string[]): string[] {
  return all.filter((p) => p === `servers/${f.name}.ts`);
}

/** Every file of src/ that holds one of a family's names, outside that family's own files and the registry. */
export function leaks(texts: Map<string, string>, families: readonly ServerFamily[]): string[] {
  const found: string[] = [];
  const all = [...texts.keys()];
  for (const f of families) {
    const own = new Set([...ownFiles(f, all), REGISTRY]);
    for (const name of f.names) {
      // A word of its own: letters or digits on either side make another word (gunicornish); _ and - do not (puma_worker_killer).
      const word = new RegExp(`(^|[^a-z0-9])${name.replace(/[-]/g, '\\-')}($|[^a-z0-9])`, 'i');
      for (const [path, text] of texts) {
        if (own.has(path)) continue;
        const line = text.split('\n').findIndex((l) => word.test(l));
        if (line >= 0) found.push(`${path}:${line + 1} names ${name}`);
      }
    }
  }
  return found;
}

const texts = new Map(files(SRC).map((p) => [relative(SRC, p), readFileSync(p, 'utf8')]));

describe('one server family, one file', () => {
  it("a family's names appear only in its own module and the registry", () => {
    assert.ok(texts.size > 50, `read ${texts.size} files`);
    assert.deepEqual(leaks(texts, FAMILIES), []);
  });
  it('the check finds a name outside its module (a word in a comment counts; a longer word does not)', () => {
    const planted = new Map([
      ['results/sizing.ts', "export const x = 1;\n// the setting (php-fpm's pm.max_children)\n"],
      ['run/other.ts', '// gunicornish, a puma_worker_killer gem, apache2 …\n'],
      ['servers/gunicorn.ts', '// gunicorn, here at home\n'],
      ['servers/php-fpm.ts', '// php-fpm, at home\n'],
      ['servers/registry.ts', '// gunicorn, php-fpm: the registry lists them\n'],
    ]);
    assert.deepEqual(leaks(planted, FAMILIES).sort(), [
      'results/sizing.ts:2 names fpm',
      'results/sizing.ts:2 names php-fpm',
      'run/other.ts:1 names apache2',
      'run/other.ts:1 names puma',
    ]);
  });
  it('every family has a module of its own, and a distinct name', () => {
    const all = [...texts.keys()];
    for (const f of FAMILIES) assert.ok(ownFiles(f, all).length >= 1, `${f.name}: no module servers/${f.name}.ts`);
    assert.equal(new Set(FAMILIES.map((f) => f.name)).size, FAMILIES.length);
  });
  it('every family declares each optional field or says why it has none, and not both', () => {
    for (const f of FAMILIES) {
      for (const field of OPTIONAL_FIELDS) {
        const has = f[field] !== undefined;
        const why = f.none[field];
        assert.ok(
          has !== (why !== undefined && why.length > 0),
          `${f.name}.${field}: ${has ? 'declared and also in none' : 'neither declared nor in none'}`,
        );
      }
      for (const [what, s] of [
        ['workerSetting', f.workerSetting],
        ['recycling', f.recycling],
      ] as const) {
        if (!s) continue;
        assert.ok((s.args === undefined) !== (s.noArgs === undefined), `${f.name}.${what}: give args or noArgs, one of them`);
        assert.match(s.text(7), /7/, `${f.name}.${what}.text names the count`);
        if (s.args) assert.ok(s.args(7).includes('7') || s.args(7).some((a) => a.includes('7')), `${f.name}.${what}.args carry the count`);
      }
      assert.ok(f.names.includes(f.name), `${f.name}: its own name is one of its names`);
      assert.ok(f.stopTimeoutMs > 0 && f.gracefulStop.boundMs > 0, `${f.name}: bounds`);
    }
  });
  it('the registry recognises each family by its command, the catch-all last', () => {
    const cases: [string[], string][] = [
      [['gunicorn', '-w', '2', 'app:app'], 'gunicorn'],
      [['uwsgi', '--http-socket', ':1'], 'uwsgi'],
      [['uvicorn', '--workers', '2', 'app:app'], 'uvicorn'],
      [['bundle', 'exec', 'puma', '-w', '2'], 'puma'],
      [['unicorn', '-c', 'u.rb'], 'unicorn'],
      [['php-fpm8.2', '-F', '-y', 'pool.conf'], 'php-fpm'],
      [['/usr/bin/python3', '-m', 'celery', '-A', 'tasks', 'worker'], 'celery'],
      [['apache2', '-DFOREGROUND'], 'apache'],
      [['node', 'server.js'], 'generic'],
    ];
    for (const [argv, name] of cases) assert.equal(familyForCommand(argv).name, name, argv.join(' '));
    assert.equal(FAMILIES.at(-1)?.recognise(['anything']), true);
  });
});

describe("a family's recycling line", () => {
  // As the servers print them (gunicorn's worker logs its own line under its pid; uWSGI names the process).
  const lines: Record<string, [string, number | undefined][]> = {
    gunicorn: [
      ['[2026-12-07 14:49:17 +0000] [4242] [INFO] Autorestarting worker after current request.', 4242],
      ['Autorestarting worker after current request.', undefined],
    ],
    uwsgi: [['...The work of process 4243 is done. Seeya!', 4243]],
  };
  it('names the worker where the line carries its pid, and counts one match a line', () => {
    for (const [name, cases] of Object.entries(lines)) {
      const family = FAMILIES.find((f) => f.name === name);
      const re = family?.log.recycled;
      assert.ok(re, name);
      for (const [line, pid] of cases) {
        const found: RegExpMatchArray[] = [...`${line}\n${line}\n`.matchAll(new RegExp(re.source, 'g'))];
        assert.equal(found.length, 2, `${name}: ${line}`);
        const named = found[0]?.groups?.pid;
        assert.equal(named === undefined ? undefined : Number(named), pid, `${name}: ${line}`);
      }
    }
  });
});
