import type { Writable } from 'node:stream';
import yargs from 'yargs';
import { ExitCode, MemcompareError } from './errors.js';

/** Where a command's output goes. Renderers return strings; the CLI picks the stream. */
export interface Io {
  stdout: Writable;
  stderr: Writable;
}

function parsePids(values: unknown): number[] {
  const list = (Array.isArray(values) ? values : [values]).flatMap((v) => String(v).split(','));
  return list
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const t = s.trim();
      if (!/^\d+$/.test(t) || Number(t) <= 0) {
        throw new MemcompareError(
          'BAD_ARGUMENT',
          `--pid ${JSON.stringify(t)}: not a process id; pass positive integers, e.g. --pid 1234,1240`,
        );
      }
      return Number(t);
    });
}

function parseRegex(source: string, flag: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new MemcompareError(
      'BAD_ARGUMENT',
      `${flag} ${JSON.stringify(source)}: invalid regular expression (${(error as Error).message.replace(/^Invalid regular expression: /, '')}); fix the pattern or quote it for the shell`,
    );
  }
}

/** Runs the CLI with the given arguments; resolves to the exit code. Never throws. */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const parser = yargs(argv)
    .scriptName('memcompare')
    .parserConfiguration({ 'boolean-negation': false })
    .usage('$0 <command> [options]\n\nMeasure the real memory (USS/PSS/RSS) of pre-forking servers and what preloading saves.')
    .command(
      'snapshot',
      'Measure processes now, like smem (USS/PSS/RSS/Swap from /proc/<pid>/smaps_rollup)',
      (y) =>
        y
          .option('pid', { alias: 'p', type: 'string', array: true, describe: 'Process ids, comma-separated or repeated' })
          .option('tree', { type: 'boolean', default: false, describe: 'With --pid: include all descendants' })
          .option('match', { alias: 'P', type: 'string', describe: 'Regex searched in the command line or process name (smem -P)' })
          .option('user', { alias: 'U', type: 'string', describe: 'Only processes of this user name or uid' })
          .option('totals', { alias: 't', type: 'boolean', default: false, describe: 'Print a totals row' })
          .option('abbreviate', { alias: 'k', type: 'boolean', default: false, describe: 'Show units (K, M, G) instead of kB' })
          .option('sort', { alias: 's', type: 'string', default: 'pss', describe: 'Sort by this column' })
          .option('reverse', { alias: 'r', type: 'boolean', default: false, describe: 'Reverse the sort' })
          .option('columns', { alias: 'c', type: 'string', describe: 'Columns to show (default: pid user command swap uss pss rss)' })
          .option('no-header', { alias: 'H', type: 'boolean', default: false, describe: 'Omit the header line' })
          .option('json', { type: 'boolean', default: false, describe: 'Print a JSON document on stdout instead of the table' })
          .example('$0 snapshot -t -k --pid 1234 --tree', 'a server and all its workers, with totals')
          .example('$0 snapshot --match gunicorn --json', 'machine-readable'),
      async (args) => {
        const { runSnapshotCommand } = await import('./commands/snapshot.js');
        exitCode = runSnapshotCommand(
          {
            pids: args.pid === undefined ? undefined : parsePids(args.pid),
            tree: args.tree,
            match: args.match === undefined ? undefined : parseRegex(args.match, '--match'),
            user: args.user,
            totals: args.totals,
            abbreviate: args.abbreviate,
            sort: args.sort,
            reverse: args.reverse,
            columns: args.columns,
            noHeader: args['no-header'],
            json: args.json,
          },
          io,
        );
      },
    )
    .command(
      'run [scenario]',
      'Boot a server per variant, warm it, let it settle, measure every process; compare the variants',
      (y) =>
        y
          .positional('scenario', { type: 'string', describe: 'Shipped scenario name (memcompare list) or path to a scenario .json' })
          .option('command', {
            type: 'string',
            array: true,
            default: [] as string[],
            describe: 'Ad-hoc variant: a server command with {port} (repeat to compare)',
          })
          .option('name', { type: 'string', array: true, default: [] as string[], describe: 'Name of each --command variant' })
          .option('cwd', { type: 'string', describe: 'Working directory of --command servers' })
          .option('workers', { type: 'number', describe: 'Expected workers; fills {workers} (default 5)' })
          .option('server', { type: 'string', describe: 'Server family of --command (gunicorn, generic); guessed from the command' })
          .option('runs', { type: 'number', describe: "Runs per variant, interleaved (default: the scenario's, 3)" })
          .option('json', { type: 'string', describe: 'Write the results document here after every run (- for stdout)' })
          .option('show-output', { type: 'boolean', default: false, describe: "Copy the server's output to stderr" })
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress lines' })
          .example('$0 run preload-vs-nopreload', 'the seed article, measured properly')
          .example(
            "$0 run --command 'gunicorn -b 127.0.0.1:{port} -w 5 app:app' --command 'gunicorn -b 127.0.0.1:{port} -w 5 --preload app:app' --name lazy --name preload",
            'ad hoc',
          ),
      async (args) => {
        const { runRunCommand } = await import('./commands/run.js');
        exitCode = await runRunCommand(
          {
            scenario: args.scenario,
            commands: args.command,
            names: args.name,
            cwd: args.cwd,
            workers: args.workers,
            server: args.server,
            runs: args.runs,
            json: args.json,
            showOutput: args['show-output'],
            quiet: args.quiet,
          },
          io,
        );
      },
    )
    .command(
      'list',
      'List the shipped scenarios',
      (y) => y,
      async () => {
        const { listScenarioFiles, loadScenario } = await import('./scenario/scenario.js');
        for (const f of listScenarioFiles()) {
          const s = loadScenario(f.replace(/\.json$/, ''));
          io.stdout.write(`${s.name.padEnd(24)} ${s.description}\n`);
        }
      },
    )
    .demandCommand(1, 'name a command: snapshot, run, list, report or check (see memcompare --help)')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new MemcompareError('BAD_ARGUMENT', `${msg}; see memcompare --help`);
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    return reportError(error, io);
  }
  return exitCode;
}

export function reportError(error: unknown, io: Io): number {
  if (error instanceof MemcompareError) {
    io.stderr.write(`memcompare: ${error.message}\n`);
    if (error.detail) io.stderr.write(`${error.detail.replace(/\n?$/, '\n')}`);
    return error.exitCode;
  }
  // A bug, not bad input: say so in one line and keep the trace behind an env var.
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`memcompare: internal error: ${message.split('\n')[0]} (set MEMCOMPARE_DEBUG=1 for the stack; please report it)\n`);
  if (process.env.MEMCOMPARE_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
  return 70;
}
