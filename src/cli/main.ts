import yargs from 'yargs';
import {
  CALIBRATE_FLAGS,
  CHECK_FLAGS,
  flagValues,
  IMPORTS_FLAGS,
  REPORT_FLAGS,
  RUN_FLAGS,
  SWEEP_FLAGS,
  WATCH_FLAGS,
} from '../commands/flags.js';
import { SNAPSHOT_FLAGS, type SnapshotArgs, toSnapshotOptions } from '../commands/snapshot-options.js';
import { ExitCode, MemcompareError, reportError } from '../errors.js';
import type { Io } from '../memory.js';
import { EXAMPLES } from '../servers/registry.js';

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

/** Whether the arguments ask for help: `--help`, or `-h` alone or in a group of short flags (before any `--`). */
function helpAsked(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || (/^-[^-]/.test(a) && a.includes('h')));
}

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
          .example(`$0 snapshot --match ${EXAMPLES.match} --json`, 'machine-readable'),
      async (args) => {
        const { runSnapshotCommand } = await import('../commands/snapshot.js');
        exitCode = runSnapshotCommand(toSnapshotOptions(args as unknown as SnapshotArgs), io);
      },
    )
    .command(
      'run [scenario]',
      'Boot a server per variant, warm it, let it settle, measure every process; compare the variants',
      (y) =>
        y
          .positional('scenario', { type: 'string', describe: 'Shipped scenario name (memcompare list) or path to a scenario .json' })
          .options(RUN_FLAGS)
          .example('$0 run preload-vs-nopreload', 'the seed article, measured properly')
          .example(`$0 run --command '${EXAMPLES.commands[0]}' --command '${EXAMPLES.commands[1]}' --name lazy --name preload`, 'ad hoc'),
      async (args) => {
        const { runRunCommand } = await import('../commands/run.js');
        exitCode = await runRunCommand({ ...flagValues(RUN_FLAGS, args), scenario: args.scenario }, io);
      },
    )
    .command(
      'watch',
      'Watch processes over time, like snapshot: a table redrawn in place, or one JSON line per sample',
      (y) =>
        y
          .options(WATCH_FLAGS)
          .example('$0 watch --pid 1234 --tree', 'a server and its workers, every second')
          .example(`$0 watch --match ${EXAMPLES.match} --interval 0.5 --count 20 --json`, 'NDJSON'),
      async (args) => {
        const { runWatchCommand } = await import('../commands/watch.js');
        exitCode = await runWatchCommand(flagValues(WATCH_FLAGS, args), io);
      },
    )
    .command(
      'sweep [scenario]',
      'Run every variant at several worker counts; fit total PSS = fixed + per-worker × workers; how many workers fit a budget',
      (y) =>
        y
          .positional('scenario', { type: 'string', describe: 'Shipped scenario name (memcompare list) or path to a scenario .json' })
          .options(SWEEP_FLAGS)
          .example('$0 sweep preload-vs-nopreload --workers 1,2,4,8 --budget 2GiB', 'capacity of the seed app, with and without preload'),
      async (args) => {
        const { runSweepCommand } = await import('../commands/sweep.js');
        exitCode = await runSweepCommand({ ...flagValues(SWEEP_FLAGS, args), scenario: args.scenario }, io);
      },
    )
    .command(
      'calibrate [scenario]',
      "A/A pairs on this runner (the same code as base and head, interleaved): the gate's false-alarm rate, each figure's noise, the smallest change it would catch at 3, 5 and 10 runs",
      (y) =>
        y
          .positional('scenario', { type: 'string', describe: 'Shipped scenario name (memcompare list) or path to a scenario .json' })
          .options(CALIBRATE_FLAGS)
          .example('$0 calibrate preload-vs-nopreload --pairs 20 --runs 5', 'how often the default gate fails unchanged code here'),
      async (args) => {
        const { runCalibrateCommand } = await import('../commands/calibrate.js');
        exitCode = await runCalibrateCommand({ ...flagValues(CALIBRATE_FLAGS, args), scenario: args.scenario }, io);
      },
    )
    .command(
      'imports',
      'One start of a Python command with an import probe on its PYTHONPATH: every first import and the private memory it added, as a tree (as bundle:mem prints gems)',
      (y) =>
        y
          .options(IMPORTS_FLAGS)
          .example('$0 imports -- python3 -c "import wsgi"', "what the app's imports cost")
          .example('$0 imports --timeout 10 -- python3 server.py', "a server's master and workers, stopped after 10 s"),
      async (args) => {
        const { runImportsCommand } = await import('../commands/imports.js');
        const argv = args._.slice(1).map(String);
        exitCode = await runImportsCommand({ ...flagValues(IMPORTS_FLAGS, args), argv }, io);
      },
    )
    .command(
      'report <results..>',
      'Render a results file as Markdown (with SVG charts), JSON, a table, CSV, or benchmark-dashboard input; several files side by side',
      (y) =>
        y
          .positional('results', {
            type: 'string',
            array: true,
            demandOption: true,
            describe: 'Results files from memcompare run --json (several: side by side, markdown or json)',
          })
          .options(REPORT_FLAGS)
          .example('$0 report results.json --out reports/report.md', 'Markdown with charts')
          .example('$0 report results.json -f bmf', 'for bencher run --family json'),
      async (args) => {
        const { runReportCommand } = await import('../commands/report.js');
        exitCode = await runReportCommand({ ...flagValues(REPORT_FLAGS, args), results: (args.results as string[]).map(String) }, io);
      },
    )
    .command(
      'check <current>',
      'CI gate: fail (exit 1) when memory grew beyond a floor and a limit, and the runs say it is real',
      (y) =>
        y
          .positional('current', { type: 'string', demandOption: true, describe: 'Results of this change (memcompare run --json)' })
          .options(CHECK_FLAGS)
          .example('$0 run memory.json --baseline-ref origin/main --json r.json && $0 check r.json', 'head against base, one runner')
          .example('$0 check current.json --baseline base.json', 'against results from elsewhere (the same host and software)')
          .example('$0 check current.json -b base.json --metric pss,uss --scope worker --limit 3 --floor 1MiB', 'stricter, per worker'),
      async (args) => {
        const { runCheckCommand } = await import('../commands/check.js');
        exitCode = await runCheckCommand({ ...flagValues(CHECK_FLAGS, args), current: args.current }, io);
      },
    )
    .command(
      'list',
      'List the shipped scenarios',
      (y) => y,
      async () => {
        const { listScenarioFiles, loadScenario } = await import('../scenario/scenario.js');
        for (const f of listScenarioFiles()) {
          const s = loadScenario(f.replace(/\.json$/, ''));
          io.stdout.write(`${s.name.padEnd(24)} ${s.description}\n`);
        }
      },
    )
    .demandCommand(1, 'name a command: snapshot, watch, run, sweep, calibrate, list, report or check (see memcompare --help)')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    // --help and --version print and return 0 instead of calling process.exit: main() is also called in-process
    // (the argument fuzzer met `-hk` 1 run in 6 and its test file ended there, unreported).
    .exitProcess(false)
    // Wrapped only for --help: yargs also lays out the help of every command it runs (it caches it after calling
    // the handler), and that layout at a width took 31-45 ms of the CPU before `run` reached its first boot.
    .wrap(helpAsked(argv) ? Math.min(100, process.stdout.columns ?? 100) : null)
    .fail((msg, err) => {
      if (err) throw err;
      throw new MemcompareError('BAD_ARGUMENT', `${msg}; see memcompare --help`);
    });
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
