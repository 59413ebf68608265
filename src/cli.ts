import yargs from 'yargs';
import { SNAPSHOT_FLAGS, type SnapshotArgs, toSnapshotOptions } from './commands/snapshot-options.js';
import { ExitCode, MemcompareError, reportError } from './errors.js';
import type { Io } from './types.js';

/** Runs the CLI with the given arguments; resolves to the exit code. Never throws. */
// Streams are created on first use: process.stderr costs a few milliseconds to set up.
const processIo: Io = {
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
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
          .options(SNAPSHOT_FLAGS)
          .example('$0 snapshot -t -k --pid 1234 --tree', 'a server and all its workers, with totals')
          .example('$0 snapshot --match gunicorn --json', 'machine-readable'),
      async (args) => {
        const { runSnapshotCommand } = await import('./commands/snapshot.js');
        exitCode = runSnapshotCommand(toSnapshotOptions(args as unknown as SnapshotArgs), io);
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
          .option('server', {
            type: 'string',
            describe: 'Server family of --command (gunicorn, uwsgi, puma, unicorn, generic); guessed from the command',
          })
          .option('port', { type: 'number', describe: 'Use this loopback port instead of a free one (for commands without {port})' })
          .option('runs', { type: 'number', describe: "Runs per variant, interleaved (default: the scenario's, 3)" })
          .option('json', { type: 'string', nargs: 1, describe: 'Write the results document here after every run (- for stdout)' })
          .option('markdown', { type: 'string', nargs: 1, describe: 'Also write a Markdown report here (charts as SVG files beside it)' })
          .option('show-output', { type: 'boolean', default: false, describe: "Copy the server's output to stderr" })
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress lines' })
          .option('progress', { type: 'boolean', default: false, describe: 'Progress lines on stderr even when it is not a terminal' })
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
            port: args.port,
            json: args.json,
            markdown: args.markdown,
            showOutput: args['show-output'],
            quiet: args.quiet,
            progress: args.progress,
          },
          io,
        );
      },
    )
    .command(
      'report <results>',
      'Render a results file as Markdown (with SVG charts), JSON, a table, CSV, or benchmark-dashboard input',
      (y) =>
        y
          .positional('results', { type: 'string', demandOption: true, describe: 'A results file from memcompare run --json' })
          .option('format', {
            alias: 'f',
            type: 'string',
            default: 'markdown',
            describe: 'markdown, json, table, csv, gab (github-action-benchmark), bmf (Bencher)',
          })
          .option('out', { alias: 'o', type: 'string', nargs: 1, describe: 'Output file (default or -: stdout); charts go beside it' })
          .example('$0 report results.json --out reports/report.md', 'Markdown with charts')
          .example('$0 report results.json -f bmf', 'for bencher run --adapter json'),
      async (args) => {
        const { runReportCommand } = await import('./commands/report.js');
        exitCode = await runReportCommand({ results: args.results, format: args.format, out: args.out }, io);
      },
    )
    .command(
      'check <current>',
      'CI gate: fail (exit 1) when memory grew beyond a floor and a limit, and the runs say it is real',
      (y) =>
        y
          .positional('current', { type: 'string', demandOption: true, describe: 'Results of this change (memcompare run --json)' })
          .option('baseline', {
            alias: 'b',
            type: 'string',
            demandOption: true,
            describe: 'Results to compare against (e.g. reports/baseline.json)',
          })
          .option('metric', { alias: 'm', type: 'string', describe: 'pss, uss, rss; comma-separated (default pss)' })
          .option('scope', { type: 'string', describe: 'worker, master, total; comma-separated (default all three)' })
          .option('limit', { type: 'number', describe: 'Relative limit in percent (default 5)' })
          .option('floor', { type: 'string', describe: 'Absolute floor, e.g. 2MiB (default 2MiB)' })
          .option('alpha', { type: 'number', describe: "Significance level of Welch's t-test over the runs (default 0.05)" })
          .option('summary', { type: 'string', describe: 'Write a Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when set)' })
          .option('json', { type: 'boolean', default: false, describe: 'Print the verdicts as JSON on stdout (the table goes to stderr)' })
          .example('$0 check current.json --baseline reports/baseline.json', 'the default gate')
          .example('$0 check current.json -b base.json --metric pss,uss --scope worker --limit 3 --floor 1MiB', 'stricter, per worker'),
      async (args) => {
        const { runCheckCommand } = await import('./commands/check.js');
        exitCode = runCheckCommand(
          {
            current: args.current,
            baseline: args.baseline,
            metric: args.metric,
            scope: args.scope,
            limit: args.limit,
            floor: args.floor,
            alpha: args.alpha,
            summary: args.summary,
            json: args.json,
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
  // yargs renders and caches the whole help text after starting any command handler, in case the
  // handler fails later and help must be shown (~25 ms, a fifth of a cold snapshot). memcompare never
  // prints help on a failure, so that cache is never read.
  const internals = (
    parser as unknown as { getInternalMethods?: () => { getUsageInstance(): { cacheHelpMessage(): void } } }
  ).getInternalMethods?.();
  if (internals) internals.getUsageInstance().cacheHelpMessage = () => {};
  try {
    await parser.parseAsync();
  } catch (error) {
    // Some of yargs's own checks (nargs) throw its YError instead of calling .fail().
    if (error instanceof Error && error.name === 'YError') {
      return reportError(new MemcompareError('BAD_ARGUMENT', `${error.message}; see memcompare --help`, { cause: error }), io);
    }
    return reportError(error, io);
  }
  return exitCode;
}
