import { writeFileSync } from 'node:fs';
import { onExit } from 'signal-exit';
import { within } from '../clock.js';
import { badArgument, MemcompareError } from '../errors.js';
import type { Io } from '../memory.js';
import { renderImports } from '../render/imports.js';
import { importTotal, importTree } from '../results/imports.js';
import { prepareImportProbe } from '../run/import-probe.js';
import { launch } from '../run/launch.js';
import { killAllNow, stopServer } from '../run/stop.js';
import { checkFlag } from '../scenario/limits.js';
import { familyForCommand } from '../servers/registry.js';

export interface ImportsCommandOptions {
  /** The command after `--`. */
  argv: string[];
  cwd: string | undefined;
  /** Imports smaller than this many MiB are not printed (bundle:mem's cut-off is 0.3). */
  threshold: number | undefined;
  /** Seconds the command may run before it is stopped (a server never ends by itself). */
  timeout: number | undefined;
  json: string | undefined;
}

const THRESHOLD = { min: 0, max: 1_000_000, integer: false, default: 0.3, unit: 'MiB' } as const;
const TIMEOUT = { min: 0.1, max: 3600, integer: false, default: 60, unit: 'seconds' } as const;

/**
 * `memcompare imports -- COMMAND`: one start of a Python command with the import probe on its PYTHONPATH
 * (the command's files are not touched); every first import with the private memory it added, as a tree
 * per process. A command that is still running after --timeout (a server) is stopped, and what its
 * processes imported by then is shown, each forked child's imports after the fork apart.
 */
export async function runImportsCommand(o: ImportsCommandOptions, io: Io): Promise<number> {
  if (o.argv.length === 0)
    throw badArgument('COMMAND', '', 'give the command after --, e.g. memcompare imports -- python3 -c "import numpy"');
  checkFlag('--threshold', o.threshold, THRESHOLD);
  checkFlag('--timeout', o.timeout, TIMEOUT);
  const probe = prepareImportProbe({ PYTHONPATH: process.env.PYTHONPATH, RUBYOPT: process.env.RUBYOPT });
  // However memcompare ends, the command ends with it and the probe's files go.
  const removeHook = onExit(() => {
    killAllNow();
    probe.remove();
  });
  try {
    const server = await launch({ argv: o.argv, cwd: o.cwd ?? process.cwd(), env: probe.env });
    const boundMs = (o.timeout ?? TIMEOUT.default) * 1000;
    const bounded = await within(
      server.exited.then(() => false),
      boundMs,
      () => true,
    );
    // A server is stopped its family's way (its quick-stop signal), then its whole group.
    if (bounded) await stopServer(server, familyForCommand(o.argv));
    else server.guard?.kill('SIGKILL');
    const processes = probe.read();
    const command = o.argv.join(' ');
    if (processes.length === 0) {
      throw badArgument(
        'COMMAND',
        command,
        'no Python or Ruby interpreter started with the probe (it records the imports of Python started from PYTHONPATH and the requires of Ruby started with RUBYOPT)',
      );
    }
    io.stdout.write(renderImports(processes, command, (o.threshold ?? THRESHOLD.default) * 1048576));
    if (bounded) io.stderr.write(`memcompare: the command was still running after ${boundMs / 1000} s (--timeout) and was stopped\n`);
    if (o.json !== undefined) {
      const doc = {
        command: o.argv,
        stopped: bounded,
        processes: processes.map((p) => {
          const tree = importTree(p.imports);
          return {
            pid: p.pid,
            ppid: p.ppid,
            forked: p.forked,
            startPrivateBytes: p.startPrivateBytes,
            totalBytes: importTotal(tree),
            tree,
          };
        }),
      };
      try {
        writeFileSync(o.json, `${JSON.stringify(doc, null, 1)}\n`);
      } catch (error) {
        throw new MemcompareError(
          'OUTPUT_UNWRITABLE',
          `--json ${o.json}: cannot write (${(error as Error).message}); give a writable path`,
        );
      }
    }
    const code = server.exitCode();
    if (!bounded && code !== 0) {
      throw new MemcompareError(
        'SERVER_DIED',
        `COMMAND ${JSON.stringify(command)}: exited with ${code ?? 'a signal'}; the imports above are those it made before (its last output below)`,
        { detail: server.lastLines(10).join('\n') },
      );
    }
    return 0;
  } finally {
    killAllNow();
    probe.remove();
    removeHook();
  }
}
