import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { MemcompareError } from '../errors.js';
import type { ProcessMemory } from '../memory.js';
import type { ContainerFigures } from '../proc/cgroup.js';
import type { Role } from '../results/types.js';

type PromClient = typeof import('prom-client');

/** What the endpoint serves: the watched tree at its last sample (a scrape never reads /proc). */
export interface TreeState {
  up: boolean;
  family: string;
  processes: readonly (ProcessMemory & { role: Role })[];
  /** Workers that left the tree while a new one took their place, since memcompare started. */
  replacements: number;
  /** Mean over workers of their shared part (Shared_Clean + Shared_Dirty) over the master's RSS at the first sample; null without both. */
  cowEfficiency: number | null;
  samplerCpuSeconds: number;
  samplerCpuRatio: number;
  samples: number;
  container?: ContainerFigures | undefined;
}

const short = (command: string) => (command.split(' ')[0] ?? '').split('/').pop()?.slice(0, 32) ?? '';

/**
 * The Prometheus metrics of a watched tree (prom-client): per process PSS, USS, RSS, Swap and the
 * shared part with pid, role, family and a short command name; per tree totals, workers, copy-on-write
 * efficiency, replacements, memcompare's own sampling cost, and the container's figures when the tree
 * has a memory cgroup of its own. Each update replaces every process series, so a departed pid's
 * series disappear (label cardinality stays bounded as workers are replaced).
 */
export function createTreeMetrics() {
  const prom = createRequire(import.meta.url)('prom-client') as PromClient;
  const text = new prom.Registry();
  const open = new prom.Registry<'application/openmetrics-text; version=1.0.0; charset=utf-8'>();
  open.setContentType(prom.Registry.OPENMETRICS_CONTENT_TYPE);
  const registers = [text, open];
  const perProcess = ['pid', 'role', 'family', 'command'] as const;
  const g = (name: string, help: string, labelNames: readonly string[] = ['family']) =>
    new prom.Gauge({ name, help, labelNames: [...labelNames], registers });
  const pss = g('memcompare_process_pss_bytes', 'Proportional set size of a process (smaps_rollup Pss)', perProcess);
  const uss = g('memcompare_process_uss_bytes', 'Unique set size of a process (Private_Clean + Private_Dirty)', perProcess);
  const rss = g('memcompare_process_rss_bytes', 'Resident set size of a process (counts shared pages in full: never sum it)', perProcess);
  const swap = g('memcompare_process_swap_bytes', 'Swapped-out memory of a process', perProcess);
  const shared = g('memcompare_process_shared_bytes', 'Shared part of a process (Shared_Clean + Shared_Dirty)', perProcess);
  const up = g('memcompare_tree_up', '1 while the watched tree has processes, 0 once it is gone');
  const totalPss = g('memcompare_tree_pss_bytes', 'Total PSS of the watched tree');
  const totalUss = g('memcompare_tree_uss_bytes', 'Total USS of the watched tree');
  const workers = g('memcompare_tree_workers', 'Workers in the watched tree');
  const cow = g(
    'memcompare_tree_cow_efficiency_ratio',
    "Workers' shared part over the master's RSS at the first sample (Pitchfork's copy-on-write efficiency)",
  );
  const replacements = new prom.Counter({
    name: 'memcompare_tree_worker_replacements_total',
    help: 'Workers replaced (one left the tree, another took its place) since memcompare started',
    labelNames: ['family'],
    registers,
  });
  const cpu = new prom.Counter({
    name: 'memcompare_sampler_cpu_seconds_total',
    help: "CPU time memcompare's sampler spent reading /proc",
    registers,
  });
  const cpuRatio = new prom.Gauge({
    name: 'memcompare_sampler_cpu_ratio',
    help: "The sampler's CPU time over wall time (its budget: --max-cpu)",
    registers,
  });
  const samples = new prom.Counter({ name: 'memcompare_samples_total', help: 'Samples taken of the tree', registers });
  // Labelled by the cgroup's path, so that a figure the kernel does not give (no limit) has no series at all.
  const cg = (name: string, help: string) => new prom.Gauge({ name, help, labelNames: ['cgroup'], registers });
  const cgCurrent = cg('memcompare_cgroup_memory_current_bytes', "The tree's memory cgroup: usage (v2 memory.current, v1 usage_in_bytes)");
  const cgPeak = cg('memcompare_cgroup_memory_peak_bytes', "The tree's memory cgroup: peak usage");
  const cgLimit = cg('memcompare_cgroup_memory_limit_bytes', "The tree's memory cgroup: its limit (absent without one)");
  const cgReclaimable = cg('memcompare_cgroup_memory_reclaimable_bytes', 'Page cache in the cgroup the kernel can reclaim');
  const cgOomKills = cg('memcompare_cgroup_oom_kills', 'OOM kills in the cgroup (memory.events oom_kill)');
  const cgShared = cg(
    'memcompare_cgroup_shared_with_others',
    '1 when the cgroup also holds processes outside the tree: its figures are not the tree alone',
  );
  // Serialized once per sample, on the first scrape after it: a flood of scrapes costs the HTTP answer only.
  const cache = new Map<string, Promise<Buffer>>();
  const render = (kind: 'text' | 'open'): Promise<Buffer> => {
    let body = cache.get(kind);
    if (!body) {
      body = (kind === 'open' ? open : text).metrics().then((t) => Buffer.from(t));
      cache.set(kind, body);
    }
    return body;
  };
  let counted = 0;
  let cpuCounted = 0;
  let samplesCounted = 0;
  return {
    registries: { text, open },
    render,
    update(s: TreeState): void {
      cache.clear();
      for (const m of [pss, uss, rss, swap, shared, totalPss, totalUss, workers, cow, up]) m.reset();
      const family = s.family;
      for (const p of s.processes) {
        const labels = { pid: String(p.pid), role: p.role, family, command: short(p.command) };
        pss.set(labels, p.pssBytes);
        uss.set(labels, p.ussBytes);
        rss.set(labels, p.rssBytes);
        swap.set(labels, p.swapBytes);
        shared.set(labels, (p.fields.Shared_Clean ?? 0) + (p.fields.Shared_Dirty ?? 0));
      }
      up.set({ family }, s.up ? 1 : 0);
      totalPss.set(
        { family },
        s.processes.reduce((a, p) => a + p.pssBytes, 0),
      );
      totalUss.set(
        { family },
        s.processes.reduce((a, p) => a + p.ussBytes, 0),
      );
      workers.set({ family }, s.processes.filter((p) => p.role === 'worker').length);
      if (s.cowEfficiency !== null) cow.set({ family }, s.cowEfficiency);
      if (s.replacements > counted) replacements.inc({ family }, s.replacements - counted);
      else replacements.inc({ family }, 0);
      counted = s.replacements;
      if (s.samplerCpuSeconds > cpuCounted) cpu.inc(s.samplerCpuSeconds - cpuCounted);
      cpuCounted = s.samplerCpuSeconds;
      cpuRatio.set(s.samplerCpuRatio);
      if (s.samples > samplesCounted) samples.inc(s.samples - samplesCounted);
      samplesCounted = s.samples;
      const c = s.container;
      for (const m of [cgCurrent, cgPeak, cgLimit, cgReclaimable, cgOomKills, cgShared]) m.reset();
      if (c) {
        const l = { cgroup: c.cgroup.path };
        cgCurrent.set(l, c.cgroup.currentBytes);
        if (c.cgroup.peakBytes !== null) cgPeak.set(l, c.cgroup.peakBytes);
        if (c.cgroup.limitBytes !== null) cgLimit.set(l, c.cgroup.limitBytes);
        if (c.cgroup.reclaimableBytes !== null) cgReclaimable.set(l, c.cgroup.reclaimableBytes);
        if (c.cgroup.oomKills !== null) cgOomKills.set(l, c.cgroup.oomKills);
        cgShared.set(l, c.exclusive ? 0 : 1);
      }
    },
  };
}

/** Parses --listen: "PORT" (loopback), "HOST:PORT" or "[::1]:PORT". */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) {
    throw new MemcompareError('BAD_ARGUMENT', `--listen ${JSON.stringify(value)}: give PORT or HOST:PORT, e.g. --listen 127.0.0.1:9464`);
  }
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

/**
 * Serves the metrics at /metrics: the Prometheus text format, or OpenMetrics when the scraper asks for
 * it (Accept: application/openmetrics-text). Resolves once listening; a taken address is bad input.
 */
export async function serveMetrics(
  metrics: ReturnType<typeof createTreeMetrics>,
  listen: { host: string; port: number },
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('memcompare: metrics are at /metrics\n');
      return;
    }
    const kind = /application\/openmetrics-text/.test(req.headers.accept ?? '') ? 'open' : 'text';
    const registry = metrics.registries[kind];
    res.sendDate = false;
    metrics.render(kind).then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType, 'content-length': body.length }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new MemcompareError(
          'BAD_ARGUMENT',
          `--listen ${listen.host}:${listen.port}: cannot listen (${error.code ?? error.message}); choose a free port${error.code === 'EADDRNOTAVAIL' ? ' on an address of this host' : ''}`,
        ),
      ),
    );
    server.listen(listen.port, listen.host, () => resolveListen());
  });
  const address = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return { server, url: `http://${address}:${listen.port}/metrics` };
}
