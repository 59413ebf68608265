import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { launchStage } from '../../../src/run/stages/launch.js';
import { stopStage } from '../../../src/run/stages/stop.js';
import { isPassengerProcess, passenger, passengerRole } from '../../../src/servers/passenger.js';
import { familyForCommand } from '../../../src/servers/registry.js';
import { contextOf, makeWorld, scenarioOf } from '../run/world.js';

describe('Passenger Standalone: a daemonized watchdog, workers at any depth', () => {
  // Under memcompare's subreaper (100): `passenger start` (101) and its log's tail (102); the watchdog (103)
  // daemonized and re-parented to the subreaper, its core (104), the preloader (105) and its application
  // processes (106, 107); a direct application process of the core (108); the temp-dir toucher (109).
  const titles: Record<number, string[]> = {
    100: ['/usr/bin/perl', '-e', '…'],
    101: ['ruby', '/usr/bin/passenger', 'start', '--engine=builtin'],
    102: ['tail', '-f', '-n', '0', '/tmp/memcompare-server-x/passenger.log'],
    103: ['Passenger watchdog'],
    104: ['Passenger core'],
    105: ['Passenger AppPreloader: /srv/app'],
    106: ['Passenger RubyApp: /srv/app'],
    107: ['Passenger RubyApp: /srv/app'],
    108: ['Passenger PythonApp: /srv/other'],
    109: ['/usr/lib/passenger/support-binaries/PassengerAgent', 'temp-dir-toucher', '/tmp/passenger-standalone.x'],
  };
  const parents: Record<number, number> = { 101: 100, 102: 101, 103: 100, 104: 103, 105: 104, 106: 105, 107: 105, 108: 104, 109: 100 };
  const role = (pid: number) => passengerRole(pid, parents[pid] ?? 1, 100, { argv: (p) => titles[p] });

  it('the watchdog is the master; application processes are workers whatever their parent; the rest are other', () => {
    assert.deepEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109].map(role), [
      'other',
      'other',
      'other',
      'master',
      'other',
      'other',
      'worker',
      'worker',
      'worker',
      'other',
    ]);
    assert.equal(role(110), 'other', 'a process gone (no title)');
  });

  it('measured: Passenger’s own processes, as passenger-memory-stats lists them; not the launcher in the foreground nor the subreaper', () => {
    const read = { argv: (p: number) => titles[p] };
    assert.deepEqual(
      [100, 101, 102, 103, 104, 105, 106, 107, 108, 109].filter((p) => isPassengerProcess(p, read)),
      [103, 104, 105, 106, 107, 108, 109],
    );
  });

  it('recognised from its command; workers, port and pool read as it reads them', () => {
    const argv = ['passenger', 'start', '--port', '8123', '--min-instances', '3', '--max-pool-size', '3'];
    assert.equal(familyForCommand(argv).name, 'passenger');
    assert.notEqual(familyForCommand(['passenger-config', 'restart-app']).name, 'passenger');
    assert.equal(passenger.workersFromCommand(argv, {}, '/'), 3);
    assert.equal(passenger.workersFromCommand(['passenger', 'start', '--max-pool-size=4'], {}, '/'), 4);
    assert.equal(passenger.workersFromCommand(['passenger', 'start'], {}, '/'), undefined);
    assert.equal(passenger.portFromCommand?.(argv, '/'), 8123);
    assert.equal(passenger.portFromCommand?.(['passenger', 'start'], '/'), 3000, "Passenger's default");
    assert.equal(passenger.poolNotFixed?.(argv, '/'), undefined);
    assert.match(
      passenger.poolNotFixed?.(['passenger', 'start', '--max-pool-size', '4'], '/')?.fix(4) ?? '',
      /--min-instances 4 --max-pool-size 4/,
    );
  });

  it('the pid file and log go to the run’s folder, the update check and telemetry off; what the user set is kept', () => {
    const added = passenger.launchArgs?.(['passenger', 'start'], '/tmp/run') ?? [];
    assert.deepEqual(added.slice(2), [
      '--disable-security-update-check',
      '--disable-anonymous-telemetry',
      '--pid-file',
      '/tmp/run/passenger.pid',
      '--log-file',
      '/tmp/run/passenger.log',
    ]);
    const own =
      passenger.launchArgs?.(['passenger', 'start', '--log-file', '/var/log/p.log', '--disable-anonymous-telemetry'], '/tmp/run') ?? [];
    assert.equal(own.filter((a) => a === '--log-file').length, 1);
    assert.equal(own.filter((a) => a === '--disable-anonymous-telemetry').length, 1);
  });

  it('a scripted launch: under the subreaper, with the family’s arguments; the run’s folder removed once stopped', async () => {
    const world = makeWorld();
    const scenario = { ...scenarioOf(['smart'], 1), server: 'passenger', command: ['passenger', 'start', '--port', '{port}'] };
    const ctx = contextOf(world, scenario);
    const b = await launchStage(ctx);
    const request = world.servers[0]?.request;
    assert.equal(request?.subreaper, true);
    const pidFile = request?.argv[request.argv.indexOf('--pid-file') + 1] ?? '';
    assert.match(pidFile, /memcompare-server-.*\/passenger\.pid$/);
    const dir = pidFile.replace(/\/passenger\.pid$/, '');
    assert.ok(existsSync(dir));
    await stopStage(ctx, b);
    assert.equal(existsSync(dir), false, 'removed with the run');
    // Another family's launch is not wrapped.
    const plain = makeWorld();
    await launchStage(contextOf(plain, scenarioOf(['a'], 1)));
    assert.equal(plain.servers[0]?.request.subreaper, undefined);
  });
});
