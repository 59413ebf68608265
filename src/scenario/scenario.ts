import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { MemcompareError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { protocolOf } from '../protocols/registry.js';
import type { Revision, SettleSettings, SoakSettings, ThroughputSettings, WarmupSettings } from '../results/types.js';
import { DEFAULT_FAMILY, familyNamed, familyNames } from '../servers/registry.js';
import { DEFAULT_THROUGHPUT, LIMITS, type Limit, limitText } from './limits.js';
import { validateRefork, validateReload } from './replacing.js';
import { type RouteDocument, withRoutes } from './routes.js';
import { SCENARIO_AJV_OPTIONS, scenarioSchema } from './schema.js';

export type { SettleSettings, WarmupSettings };

/** A companion service (a broker, a database): started once before the variants, never measured, stopped last. */
export interface ServiceSpec {
  name: string;
  /** Its command; {port} is a free loopback port, {services.NAME.port} in other commands. */
  command: string[];
  /** Ready when its port accepts connections (the default), a file exists, or a command succeeds. */
  ready?: { file?: string; command?: string[] };
  /** Bound on becoming ready. */
  timeoutMs: number;
  cwd?: string;
}

/** A code change and the reload that should pick it up (reload staleness). */
export interface ReloadSettings {
  /** Applied to a copy of the app folder: the first occurrence of `replace` in `file` becomes `with`. */
  edit: { file: string; replace: string; with: string };
  /** The path asked before and after the reload; its body is compared. */
  path: string;
  /** The reload signal (default: the family's own). */
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
  /** This variant's server family when it differs from the scenario's (one server against another). */
  server?: string;
  /** Working directory of this variant instead of the scenario's (the base worktree of --baseline-ref). */
  cwd?: string;
  /** The revision this variant measures (--baseline-ref). */
  revision?: Revision;
  /** Workers of this variant instead of the scenario's (sweep points). */
  workers?: number;
  /** The sweep point this variant is (sweep). */
  point?: { variant: string; workers: number };
  /** After the measurement, ask the server to fork its workers anew from a warm one; the new generation, warmed again, is measured. */
  refork?: boolean;
}

export interface Scenario {
  name: string;
  description: string;
  /** Server family: which family knows its signals and roles. */
  server: string;
  /** Working directory of the server (absolute). */
  cwd: string;
  /** Command template, an argument vector with {port} and {workers} placeholders. */
  command: string[];
  /** Workers to expect, and the value of {workers}. */
  workers: number;
  /**
   * True when no count was declared (no `workers`, no --workers, no {workers}): each variant's
   * count is read from its command by its server family, or detected.
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
  /** Requests per second and latency under a closed loop, after the memory is sampled (absent: no phase). */
  throughput?: ThroughputSettings;
  /** A fixed port, for servers whose port is set elsewhere (a config file); otherwise memcompare picks one for {port}. */
  port?: number;
  /** A configuration file (absolute path) filled with {port}, {workers} and {app} into a temporary copy per run: {config} in the command. */
  configTemplate?: string;
  /** Companion services started before the variants (a broker for a task queue). */
  services?: ServiceSpec[];
  /** The file it came from, if any. */
  file?: string;
}

/** Apps that send their worker's pid in X-Worker-Pid let memcompare see which worker served; others fall back to CPU time. */
export const DEFAULT_WARMUP: WarmupSettings = {
  requests: LIMITS.warmupRequests.default,
  connections: LIMITS.warmupConnections.default,
  path: '/',
  workerPidHeader: 'X-Worker-Pid',
};
export const DEFAULT_SETTLE: SettleSettings = {
  intervalMs: LIMITS.settleIntervalMs.default,
  tolerancePercent: LIMITS.settleTolerancePercent.default,
  stableSamples: LIMITS.settleStableSamples.default,
  timeoutMs: LIMITS.settleTimeoutMs.default,
};

/** The folder of shipped scenarios. */
export function scenariosDir(): string {
  return join(packageRoot(), 'scenarios');
}

type AjvError = {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: Record<string, unknown>;
};
type Validate = ((doc: unknown) => boolean) & { errors?: AjvError[] | null };
let validate: Validate | undefined;

function compiled(): Validate {
  if (!validate) {
    const schema = scenarioSchema(familyNames(), DEFAULT_FAMILY.name);
    const require = createRequire(import.meta.url);
    // The build's precompiled validator (scripts/bundle.mjs), when it was made from this very schema.
    try {
      const built = require(join(packageRoot(), 'dist', 'bundle', 'scenario-validate.cjs')) as Validate & { schemaText?: string };
      if (built.schemaText === JSON.stringify(schema)) validate = built;
    } catch {
      // not built: compiled below
    }
    if (!validate) {
      const Ajv = require('ajv') as { default: new (o: object) => { compile(s: object): Validate } };
      validate = new Ajv.default(SCENARIO_AJV_OPTIONS).compile(schema);
    }
  }
  return validate;
}

/** `/variants/0/name` → `variants[0].name`. */
function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** The first schema error as the one-line message every bad input gets: file, field, value, fix. */
function schemaError(file: string, e: AjvError): MemcompareError {
  const schema = e.parentSchema ?? {};
  let field = fieldName(e.instancePath) || '(document)';
  let value = e.data;
  let fix = typeof schema['x-fix'] === 'string' ? (schema['x-fix'] as string) : (e.message ?? 'is invalid');
  if (e.keyword === 'additionalProperties') {
    const key = String(e.params.additionalProperty);
    field = field === '(document)' ? key : `${field}.${key}`;
    value = (e.data as Record<string, unknown>)[key];
    fix = `unknown field; known fields: ${Object.keys((schema.properties as object) ?? {}).join(', ')}`;
  } else if (e.keyword === 'required') {
    const key = String(e.params.missingProperty);
    field = field === '(document)' ? key : `${field}.${key}`;
    value = undefined;
    fix = 'is required';
  } else if (['minimum', 'maximum', 'exclusiveMinimum', 'type'].includes(e.keyword) && typeof schema.maximum === 'number') {
    const l: Limit = {
      min: (schema.minimum ?? schema.exclusiveMinimum) as number,
      max: schema.maximum,
      exclusiveMin: schema.exclusiveMinimum !== undefined,
      integer: schema.type === 'integer',
      unit: String(schema.description ?? '').replace(/\.$/, '') || 'value',
    };
    fix = `must be ${limitText(l).replace(/ \(.*\)$/, '')}`;
  } else if (e.keyword === 'type' && typeof schema['x-fix'] !== 'string') {
    fix = `must be ${schema.type === 'object' ? 'an object' : `of type ${String(schema.type)}`}`;
  }
  return new MemcompareError('BAD_SCENARIO', `${file}: ${field} ${JSON.stringify(value) ?? 'missing'}: ${fix}`);
}

/** The scenario document as its schema has checked it. */
interface ScenarioDocument {
  name: string;
  description?: string;
  server?: string;
  app?: string;
  command: string[];
  workers?: number;
  env?: Record<string, string>;
  variants: { name: string; args?: string[]; env?: Record<string, string>; command?: string[]; server?: string; refork?: boolean }[];
  warmup?: Partial<WarmupSettings>;
  config?: { template: string };
  services?: { name: string; command: string[]; ready?: { file?: string; command?: string[] }; timeoutSeconds?: number }[];
  settle?: Partial<SettleSettings>;
  runs?: number;
  bootTimeoutSeconds?: number;
  soak?: Partial<SoakSettings> & { durationSeconds: number };
  throughput?: false | Partial<ThroughputSettings>;
  routes?: RouteDocument[];
  reload?: { edit: { file: string; replace: string; with: string }; path?: string; signal?: string; timeoutSeconds?: number };
}

/**
 * Validates a parsed scenario document: its shape, types and ranges by the published JSON Schema
 * (schema/scenario.schema.json), then what a schema cannot say (folders, {port}, distinct names).
 * `base` is the folder app paths are relative to.
 */
export function validateScenario(doc: unknown, file: string, base: string): Scenario {
  const check = compiled();
  if (!check(doc)) throw schemaError(file, check.errors?.[0] as AjvError);
  const o = doc as ScenarioDocument;
  const fail = (field: string, value: unknown, fix: string): never => {
    throw new MemcompareError('BAD_SCENARIO', `${file}: ${field} ${JSON.stringify(value)}: ${fix}`);
  };
  const server = o.server ?? DEFAULT_FAMILY.name;
  let cwd = base;
  if (o.app !== undefined) {
    cwd = isAbsolute(o.app) ? o.app : resolve(base, o.app);
    if (!isAbsolute(o.app) && !(cwd === base || cwd.startsWith(`${base}/`))) {
      fail('app', o.app, 'must stay inside the scenario folder; give an absolute path to point elsewhere');
    }
    if (!existsSync(cwd) || !statSync(cwd).isDirectory()) fail('app', o.app, `no such folder (${cwd}); create it or fix the path`);
  }
  const templateText = o.config === undefined ? '' : readTemplate(resolve(cwd, o.config.template));
  const withPort = (argv: readonly string[]) => argv.some((a) => a.includes('{port}'));
  const takesPort = withPort(o.command) || o.variants.some((v) => withPort(v.command ?? v.args ?? [])) || templateText.includes('{port}');
  // A port fixed in the server's own flags or configuration file (read there, never written): every run takes it.
  const fixedPort = takesPort
    ? undefined
    : familyNamed(o.variants[0]?.server ?? server)?.portFromCommand?.(
        o.variants[0]?.command ?? [...o.command, ...(o.variants[0]?.args ?? [])],
        cwd,
      );
  if (!o.warmup?.command && !takesPort && fixedPort === undefined)
    fail(
      'command',
      o.command,
      "must contain {port} (or its config template must) so memcompare can give the server a free loopback port, or fix a loopback port in the server's own configuration",
    );
  const seen = new Set<string>();
  const variants = o.variants.map((v, i) => {
    if (seen.has(v.name)) fail(`variants[${i}].name`, v.name, 'variant names must differ');
    seen.add(v.name);
    // The scenario's env is where every variant starts; a variant's own keys win.
    const variant: Variant = { name: v.name, args: v.args ?? [], env: { ...o.env, ...v.env } };
    if (v.command !== undefined) variant.command = v.command;
    if (v.server !== undefined) variant.server = v.server;
    if (v.refork)
      variant.refork = validateRefork(fail, `variants[${i}].refork`, v.server ?? server, v.command ?? [...o.command, ...(v.args ?? [])]);
    return variant;
  });
  // The documented default header holds when a warm-up is given without it (an app that does not send
  // it is then reached one held connection per worker instead).
  // A warm-up by command runs the command once a round: one "request" over one "connection".
  // A count given without `until` is a fixed count (the user asked for it); otherwise the warm-up goes on
  // until the workers are steady. A command's unit of work is the user's to size: a fixed count.
  const until = o.warmup?.until ?? (o.warmup?.requests !== undefined || o.warmup?.command ? 'count' : 'steady');
  const warmup = (
    o.warmup?.command
      ? { ...DEFAULT_WARMUP, requests: 1, connections: 1, timeoutSeconds: 120, ...o.warmup, until }
      : { ...DEFAULT_WARMUP, ...o.warmup, until }
  ) as WarmupSettings;
  const serviceNames = new Set<string>();
  const services = (o.services ?? []).map((s, i) => {
    if (serviceNames.has(s.name)) fail(`services[${i}].name`, s.name, 'service names must differ');
    serviceNames.add(s.name);
    if (!s.command.some((a) => a.includes('{port}')) && !s.ready)
      fail(
        `services[${i}].command`,
        s.command,
        'add {port} where the service takes its port (memcompare waits until it accepts connections), or give ready',
      );
    return { name: s.name, command: s.command, ...(s.ready ? { ready: s.ready } : {}), timeoutMs: (s.timeoutSeconds ?? 30) * 1000, cwd };
  });
  const mentioned = JSON.stringify([o.command, o.variants, o.env ?? {}, o.warmup?.command ?? []]);
  for (const m of mentioned.matchAll(/\{services\.([^.}]+)\.port\}/g)) {
    if (!serviceNames.has(m[1] as string))
      fail('services', o.services ?? [], `{services.${m[1]}.port} names no service; add a service named ${m[1]}`);
  }
  // The protocol the family's server speaks, unless the scenario names one; that protocol checks its settings.
  const spoken = familyNamed(server)?.protocol;
  if (warmup.protocol === undefined && spoken && !warmup.command) (warmup as { protocol?: string }).protocol = spoken;
  protocolOf(warmup).check?.(warmup, cwd, fail);
  if (o.routes) withRoutes(warmup, o.routes, fail);
  let configTemplate: string | undefined;
  if (o.config !== undefined) {
    configTemplate = resolve(cwd, o.config.template);
    if (!existsSync(configTemplate))
      fail('config.template', o.config.template, `no such file (${configTemplate}); give a file of the app folder`);
    if (![...o.command, ...variants.flatMap((v) => [...v.args, ...(v.command ?? [])])].some((a) => a.includes('{config}')))
      fail(
        'command',
        o.command,
        'add {config} where the server takes its configuration file (e.g. -y {config}): the filled copy goes there',
      );
  }
  if (warmup.connections > warmup.requests)
    fail('warmup.connections', warmup.connections, `must not exceed warmup.requests (${warmup.requests})`);
  const settle: SettleSettings = { ...DEFAULT_SETTLE, ...o.settle };
  const placeholder = [...o.command, ...variants.flatMap((v) => [...v.args, ...(v.command ?? []), ...Object.values(v.env)])].some((a) =>
    a.includes('{workers}'),
  );
  const reload = o.reload === undefined ? undefined : validateReload(fail, o.reload, cwd, server);
  const soak: SoakSettings | undefined = o.soak === undefined ? undefined : { ...DEFAULT_SOAK, ...o.soak };
  return {
    name: o.name,
    description: o.description ?? '',
    server,
    cwd,
    command: o.command,
    workers: o.workers ?? LIMITS.workers.default,
    detectWorkers: o.workers === undefined && !placeholder,
    variants,
    warmup,
    settle,
    runs: o.runs ?? LIMITS.runs.default,
    bootTimeoutMs: (o.bootTimeoutSeconds ?? LIMITS.bootTimeoutSeconds.default) * 1000,
    file,
    ...(reload ? { reload } : {}),
    ...(soak ? { soak } : {}),
    ...(o.throughput === false ? {} : { throughput: { ...DEFAULT_THROUGHPUT, ...o.throughput } }),
    ...(configTemplate ? { configTemplate } : {}),
    ...(services.length > 0 ? { services } : {}),
    ...(fixedPort !== undefined ? { port: fixedPort } : {}),
  };
}

export const DEFAULT_SOAK = {
  connections: LIMITS.soakConnections.default,
  intervalMs: LIMITS.samplerIntervalMs.default,
  maxCpuPercent: LIMITS.maxCpuPercent.default,
};

function readTemplate(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
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
