import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { badArgument } from '../errors.js';
import { familyNamed } from '../servers/registry.js';
import { LIMITS } from './limits.js';
import type { Scenario, Variant } from './scenario.js';

/** The scenario's one-line error: the field, its value, the fix. */
type Fail = (field: string, value: unknown, fix: string) => never;

/** A scenario's `reload` (workers replaced by the server's reload signal): the edit must be possible, the signal known. */
export function validateReload(
  fail: Fail,
  r: { edit: { file: string; replace: string; with: string }; path?: string; signal?: string; timeoutSeconds?: number },
  cwd: string,
  server: string,
): { edit: { file: string; replace: string; with: string }; path: string; signal: NodeJS.Signals; timeoutMs: number } {
  const { file, replace, with: by } = r.edit;
  const target = resolve(cwd, file);
  if (isAbsolute(file) || !target.startsWith(`${cwd}/`))
    fail('reload.edit.file', file, 'give a path inside the app folder, relative to it');
  if (replace === by) fail('reload.edit.with', by, 'must differ from reload.edit.replace');
  let text = '';
  try {
    text = readFileSync(target, 'utf8');
  } catch {
    fail('reload.edit.file', file, `cannot be read in ${cwd}; name a file of the app`);
  }
  if (!text.includes(replace)) fail('reload.edit.replace', replace, `does not occur in ${file}; give text the file holds`);
  const family = familyNamed(server);
  const signal =
    r.signal ??
    (family ? family.reloadSignal : 'SIGHUP') ??
    fail(
      'reload',
      r,
      `${server} has no reload signal (${family?.none.reloadSignal ?? 'none is known'}); give reload.signal or remove reload`,
    );
  const timeoutMs = (r.timeoutSeconds ?? LIMITS.reloadTimeoutSeconds.default) * 1000;
  return { edit: { file, replace, with: by }, path: r.path ?? '/', signal: signal as NodeJS.Signals, timeoutMs };
}

/** A variant's `refork` (workers forked anew from a warm one): the server must be able to, and its command run in that mode. */
export function validateRefork(fail: Fail, field: string, server: string, argv: readonly string[]): true {
  const family = familyNamed(server);
  if (!family?.refork) return fail(field, true, `${server} cannot fork its workers anew from a warm one; remove refork`);
  if (!family.refork.enabled(argv)) return fail(field, true, `the command does not run in that mode: ${family.refork.enable}`);
  return true;
}

/** `run --refork`: after each variant whose server can refork, the same measured after a refork (NAME+refork). */
export function withReforks(scenario: Pick<Scenario, 'server' | 'command' | 'variants'>): Variant[] {
  const can = (v: Variant) => {
    const r = familyNamed(v.server ?? scenario.server)?.refork;
    return !v.refork && r?.enabled(v.command ?? [...scenario.command, ...v.args]) === true;
  };
  if (!scenario.variants.some(can)) {
    const r = familyNamed(scenario.server)?.refork;
    throw badArgument(
      '--refork',
      true,
      r ? `no variant runs in that mode: ${r.enable}` : `${scenario.server} cannot fork its workers anew from a warm one; drop --refork`,
    );
  }
  return scenario.variants.flatMap((v) => (can(v) ? [v, { ...v, name: `${v.name}+refork`, refork: true }] : [v]));
}
