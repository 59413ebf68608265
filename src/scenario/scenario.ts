import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { MemcompareError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { Revision, SettleSettings, SoakSettings, WarmupSettings } from '../results/types.js';
import { ADAPTERS } from '../servers/adapters.js';

export type { SettleSettings, WarmupSettings };

/** A code change and the reload that should pick it up (reload staleness). */
export interface ReloadSettings {
  /** Applied to a copy of the app folder: the first occurrence of `replace` in `file` becomes `with`. */
  edit: { file: string; replace: string; with: string };
  /** The path asked before and after the reload; its body is compared. */
  path: string;
  /** The reload signal (default: the family's: gunicorn, uWSGI, Unicorn HUP; Puma USR2). */
  signal: NodeJS.Signals;
  /** Bound on the workers' replacement after the signal. */
  timeoutMs: number;
}

export interface Variant {
  name: string;
  /** Arguments appended to the scenario's command. */
  args: string[];
  /** Extra environment variables. */
  env: Record<string, string>;
  /** A whole command of its own instead of the scenario's (hyperfine-style --command). */
  command?: string[];
  /** Working directory of this variant instead of the scenario's (the base worktree of --baseline-ref). */
  cwd?: string;
  /** The revision this variant measures (--baseline-ref). */
  revision?: Revision;
  /** Workers of this variant instead of the scenario's (sweep points). */
  workers?: number;
  /** The sweep point this variant is (sweep). */
  point?: { variant: string; workers: number };
}

export interface Scenario {
  name: string;
  description: string;
  /** Server family: which adapter knows its signals and roles. */
  server: string;
  /** Working directory of the server (absolute). */
  cwd: string;
  /** Command template, an argument vector with {port} and {workers} placeholders. */
  command: string[];
  /** Workers to expect, and the value of {workers}. */
  workers: number;
  /**
   * True when no count was declared (no `workers`, no --workers, no {workers}): each variant's
   * count is read from its command by the family's adapter, or detected.
   */
  detectWorkers?: boolean;
  variants: Variant[];
  warmup: WarmupSettings;
  settle: SettleSettings;
  runs: number;
  /** Milliseconds to wait for the server to be ready. */
  bootTimeoutMs: number;
  /** Reload staleness: edit the app (in a copy), send the reload signal, ask again (see ReloadSettings). */
  reload?: ReloadSettings;
  /** Load kept on after the warm-up while the tree is sampled (memory over time). */
  soak?: SoakSettings;
  /** A fixed port, for servers whose port is set elsewhere (a config file); otherwise memcompare picks one for {port}. */
  port?: number;
  /** The file it came from, if any. */
  file?: string;
}

/** Apps that send their worker's pid in X-Worker-Pid let memcompare see which worker served; others fall back to CPU time. */
export const DEFAULT_WARMUP: WarmupSettings = { requests: 30, connections: 30, path: '/', workerPidHeader: 'X-Worker-Pid' };
export const DEFAULT_SETTLE: SettleSettings = { intervalMs: 50, tolerancePercent: 0.1, stableSamples: 3, timeoutMs: 20000 };

/** The folder of shipped scenarios. */
export function scenariosDir(): string {
  return join(packageRoot(), 'scenarios');
}

class Check {
  constructor(private readonly file: string) {}
  fail(field: string, value: unknown, fix: string): never {
    throw new MemcompareError('BAD_SCENARIO', `${this.file}: ${field} ${JSON.stringify(value)}: ${fix}`);
  }
  object(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, v, 'must be an object');
    return v as Record<string, unknown>;
  }
  string(v: unknown, field: string, pattern?: RegExp, fix?: string): string {
    if (typeof v !== 'string' || v === '') this.fail(field, v, 'must be a non-empty string');
    if (pattern && !pattern.test(v)) this.fail(field, v, fix ?? `must match ${pattern}`);
    return v;
  }
  int(v: unknown, field: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      this.fail(field, v, `must be a whole number from ${min} to ${max}`);
    return v;
  }
  number(v: unknown, field: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(field, v, `must be a number from ${min} to ${max}`);
    return v;
  }
  strings(v: unknown, field: string): string[] {
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) this.fail(field, v, 'must be an array of strings (an argument vector)');
    return v as string[];
  }
  keys(o: Record<string, unknown>, field: string, allowed: string[]): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(`${field}${field ? '.' : ''}${k}`, o[k], `unknown field; known fields: ${allowed.join(', ')}`);
    }
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Validates a parsed scenario document. `base` is the folder app paths are relative to. */
export function validateScenario(doc: unknown, file: string, base: string): Scenario {
  const c = new Check(file);
  const o = c.object(doc, '(document)');
  c.keys(o, '', [
    '$schema',
    'name',
    'description',
    'server',
    'app',
    'command',
    'workers',
    'variants',
    'warmup',
    'settle',
    'runs',
    'bootTimeoutSeconds',
    'reload',
    'soak',
  ]);
  const name = c.string(o.name, 'name', NAME, 'use letters, digits, dot, dash and underscore');
  const description = o.description === undefined ? '' : c.string(o.description, 'description');
  const server = c.string(o.server ?? 'gunicorn', 'server');
  if (!(server in ADAPTERS)) c.fail('server', server, `unknown server family; use one of: ${Object.keys(ADAPTERS).join(', ')}`);
  let cwd = base;
  if (o.app !== undefined) {
    const app = c.string(o.app, 'app');
    cwd = isAbsolute(app) ? app : resolve(base, app);
    const rel = resolve(cwd);
    if (!isAbsolute(app) && !(rel === base || rel.startsWith(`${base}/`))) {
      c.fail('app', app, 'must stay inside the scenario folder; give an absolute path to point elsewhere');
    }
    if (!existsSync(cwd) || !statSync(cwd).isDirectory()) c.fail('app', app, `no such folder (${cwd}); create it or fix the path`);
  }
  const command = c.strings(o.command, 'command');
  if (command.length === 0) c.fail('command', command, 'name the server program and its arguments');
  if (!command.some((a) => a.includes('{port}')))
    c.fail('command', command, 'must contain {port} so memcompare can give the server a free loopback port');
  const workers = c.int(o.workers ?? 5, 'workers', 1, 256);
  if (!Array.isArray(o.variants) || o.variants.length === 0) c.fail('variants', o.variants, 'must be a non-empty array of {name, args}');
  const seen = new Set<string>();
  const variants = (o.variants as unknown[]).map((v, i) => {
    const f = `variants[${i}]`;
    const vo = c.object(v, f);
    c.keys(vo, f, ['name', 'args', 'env', 'command']);
    const vname = c.string(vo.name, `${f}.name`, NAME, 'use letters, digits, dot, dash and underscore');
    if (seen.has(vname)) c.fail(`${f}.name`, vname, 'variant names must differ');
    seen.add(vname);
    const args = vo.args === undefined ? [] : c.strings(vo.args, `${f}.args`);
    const env: Record<string, string> = {};
    if (vo.env !== undefined) {
      for (const [k, val] of Object.entries(c.object(vo.env, `${f}.env`))) env[k] = c.string(val, `${f}.env.${k}`);
    }
    const variant: Variant = { name: vname, args, env };
    if (vo.command !== undefined) variant.command = c.strings(vo.command, `${f}.command`);
    return variant;
  });
  const w = o.warmup === undefined ? {} : c.object(o.warmup, 'warmup');
  c.keys(w, 'warmup', ['requests', 'connections', 'path', 'workerPidHeader']);
  const warmup: WarmupSettings = {
    requests: w.requests === undefined ? DEFAULT_WARMUP.requests : c.int(w.requests, 'warmup.requests', 1, 10_000_000),
    connections: w.connections === undefined ? DEFAULT_WARMUP.connections : c.int(w.connections, 'warmup.connections', 1, 10_000),
    path:
      w.path === undefined
        ? DEFAULT_WARMUP.path
        : c.string(w.path, 'warmup.path', /^\/(?!\/)/, 'must be a path starting with one "/" (load goes to loopback only; no host or URL)'),
  };
  if (warmup.connections > warmup.requests)
    c.fail('warmup.connections', warmup.connections, `must not exceed warmup.requests (${warmup.requests})`);
  // The documented default holds when a warm-up is given without it (an app that does not send the
  // header is then reached one held connection per worker instead).
  warmup.workerPidHeader =
    w.workerPidHeader === undefined
      ? DEFAULT_WARMUP.workerPidHeader
      : c.string(w.workerPidHeader, 'warmup.workerPidHeader', /^[A-Za-z0-9-]+$/, 'must be an HTTP header name');
  const s = o.settle === undefined ? {} : c.object(o.settle, 'settle');
  c.keys(s, 'settle', ['intervalMs', 'tolerancePercent', 'stableSamples', 'timeoutMs']);
  const settle: SettleSettings = {
    intervalMs: s.intervalMs === undefined ? DEFAULT_SETTLE.intervalMs : c.int(s.intervalMs, 'settle.intervalMs', 10, 60_000),
    tolerancePercent:
      s.tolerancePercent === undefined ? DEFAULT_SETTLE.tolerancePercent : c.number(s.tolerancePercent, 'settle.tolerancePercent', 0, 100),
    stableSamples: s.stableSamples === undefined ? DEFAULT_SETTLE.stableSamples : c.int(s.stableSamples, 'settle.stableSamples', 1, 1000),
    timeoutMs: s.timeoutMs === undefined ? DEFAULT_SETTLE.timeoutMs : c.int(s.timeoutMs, 'settle.timeoutMs', 100, 3_600_000),
  };
  const runs = c.int(o.runs ?? 3, 'runs', 1, 1000);
  const bootTimeoutMs = c.int(o.bootTimeoutSeconds ?? 120, 'bootTimeoutSeconds', 1, 3600) * 1000;
  const placeholder = [...command, ...variants.flatMap((v) => [...v.args, ...(v.command ?? []), ...Object.values(v.env)])].some((a) =>
    a.includes('{workers}'),
  );
  const detectWorkers = o.workers === undefined && !placeholder;
  const reload = o.reload === undefined ? undefined : validateReload(c, c.object(o.reload, 'reload'), cwd, server);
  const soak = o.soak === undefined ? undefined : validateSoak(c, c.object(o.soak, 'soak'));
  return {
    name,
    description,
    server,
    cwd,
    command,
    workers,
    detectWorkers,
    variants,
    warmup,
    settle,
    runs,
    bootTimeoutMs,
    file,
    ...(reload ? { reload } : {}),
    ...(soak ? { soak } : {}),
  };
}

export const DEFAULT_SOAK = { connections: 10, intervalMs: 250, maxCpuPercent: 10 };

function validateSoak(c: Check, o: Record<string, unknown>): SoakSettings {
  c.keys(o, 'soak', ['durationSeconds', 'connections', 'rate', 'intervalMs', 'maxCpuPercent']);
  const soak: SoakSettings = {
    durationSeconds: c.number(o.durationSeconds, 'soak.durationSeconds', 0.1, 86_400),
    connections: o.connections === undefined ? DEFAULT_SOAK.connections : c.int(o.connections, 'soak.connections', 1, 1000),
    intervalMs: o.intervalMs === undefined ? DEFAULT_SOAK.intervalMs : c.int(o.intervalMs, 'soak.intervalMs', 10, 600_000),
    maxCpuPercent: o.maxCpuPercent === undefined ? DEFAULT_SOAK.maxCpuPercent : c.number(o.maxCpuPercent, 'soak.maxCpuPercent', 0.1, 100),
  };
  if (o.rate !== undefined) soak.rate = c.number(o.rate, 'soak.rate', 0.1, 1_000_000);
  return soak;
}

const SIGNALS = ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGWINCH'] as const;

function validateReload(c: Check, r: Record<string, unknown>, cwd: string, server: string): ReloadSettings {
  c.keys(r, 'reload', ['edit', 'path', 'signal', 'timeoutSeconds']);
  const e = c.object(r.edit, 'reload.edit');
  c.keys(e, 'reload.edit', ['file', 'replace', 'with']);
  const file = c.string(e.file, 'reload.edit.file');
  const target = resolve(cwd, file);
  if (isAbsolute(file) || !target.startsWith(`${cwd}/`))
    c.fail('reload.edit.file', file, 'give a path inside the app folder, relative to it');
  const replace = c.string(e.replace, 'reload.edit.replace');
  const by = c.string(e.with, 'reload.edit.with');
  if (replace === '' || replace === by) c.fail('reload.edit.with', by, 'must differ from reload.edit.replace, which must not be empty');
  let text = '';
  try {
    text = readFileSync(target, 'utf8');
  } catch {
    c.fail('reload.edit.file', file, `cannot be read in ${cwd}; name a file of the app`);
  }
  if (!text.includes(replace)) c.fail('reload.edit.replace', replace, `does not occur in ${file}; give text the file holds`);
  const path =
    r.path === undefined
      ? '/'
      : c.string(r.path, 'reload.path', /^\/(?!\/)/, 'must be a path starting with one "/" (loopback only; no host or URL)');
  const signal = r.signal === undefined ? (ADAPTERS[server]?.reloadSignal ?? 'SIGHUP') : c.string(r.signal, 'reload.signal');
  if (!(SIGNALS as readonly string[]).includes(signal)) c.fail('reload.signal', signal, `use one of: ${SIGNALS.join(', ')}`);
  const timeoutMs = c.int(r.timeoutSeconds ?? 60, 'reload.timeoutSeconds', 1, 3600) * 1000;
  return { edit: { file, replace, with: by }, path, signal: signal as NodeJS.Signals, timeoutMs };
}

/** Loads a scenario by shipped name or by path. */
export function loadScenario(nameOrPath: string): Scenario {
  const looksLikePath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  const file = looksLikePath ? resolve(nameOrPath) : join(scenariosDir(), `${nameOrPath}.json`);
  if (!existsSync(file)) {
    const known = listScenarioFiles()
      .map((f) => f.replace(/\.json$/, ''))
      .join(', ');
    throw new MemcompareError(
      'BAD_SCENARIO',
      `scenario ${JSON.stringify(nameOrPath)}: not found (${file}); use a shipped name (${known}) or a path to a .json file`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MemcompareError('BAD_SCENARIO', `${file}: not valid JSON (${(error as Error).message}); fix the syntax`, { cause: error });
  }
  return validateScenario(doc, file, dirname(file));
}

export function listScenarioFiles(): string[] {
  try {
    return readdirSync(scenariosDir())
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
}

/** Fills {port} and {workers} inside each argument; values never split into new arguments. */
export function expandCommand(template: string[], values: { port: number; workers: number }): string[] {
  return template.map((a) => a.replaceAll('{port}', String(values.port)).replaceAll('{workers}', String(values.workers)));
}
