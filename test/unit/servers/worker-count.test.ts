import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { flagValue } from '../../../src/servers/config.js';
import { gunicorn } from '../../../src/servers/gunicorn.js';
import { puma } from '../../../src/servers/puma.js';
import { FAMILIES, familyForCommand, familyNamed } from '../../../src/servers/registry.js';
import { unicorn } from '../../../src/servers/unicorn.js';
import { uvicorn } from '../../../src/servers/uvicorn.js';
import { uwsgi } from '../../../src/servers/uwsgi.js';
import { tempDir } from '../../helpers.js';

const gunicornWorkers = gunicorn.workersFromCommand;
const pumaWorkers = puma.workersFromCommand;
const uwsgiWorkers = (argv: string[]) => uwsgi.workersFromCommand(argv, {}, '/');
const unicornWorkers = (argv: string[], cwd: string) => unicorn.workersFromCommand(argv, {}, cwd);

const dir = tempDir('memcompare-workers-');
writeFileSync(join(dir, 'gunicorn.conf.py'), 'bind = "127.0.0.1:8000"\nworkers = 7  # from the config\n');
writeFileSync(join(dir, 'gunicorn-expr.py'), 'import multiprocessing\nworkers = multiprocessing.cpu_count() * 2 + 1\n');
writeFileSync(join(dir, 'puma.rb'), 'workers 3\npreload_app!\n');
writeFileSync(join(dir, 'unicorn.rb'), 'worker_processes 4 # per core\npreload_app true\n');
writeFileSync(join(dir, 'unicorn-env.rb'), "worker_processes Integer(ENV['WORKERS'] || 2)\n");

describe('worker counts read from a command, as each server reads them', () => {
  it('flags: short, long, attached and =, the last one wins', () => {
    assert.equal(flagValue(['-w', '3'], ['-w'], ['--workers']), '3');
    assert.equal(flagValue(['-w3'], ['-w'], ['--workers']), '3');
    assert.equal(flagValue(['--workers=4'], ['-w'], ['--workers']), '4');
    assert.equal(flagValue(['--workers', '4', '-w', '6'], ['-w'], ['--workers']), '6');
    assert.equal(flagValue(['--worker-class', 'sync'], ['-w'], ['--workers']), undefined);
  });
  it('gunicorn: -w, then $GUNICORN_CMD_ARGS, then its config, then $WEB_CONCURRENCY, else 1', () => {
    assert.equal(gunicornWorkers(['gunicorn', '-w', '5', 'app:app'], {}, dir), 5);
    assert.equal(gunicornWorkers(['gunicorn', 'app:app'], { GUNICORN_CMD_ARGS: '--bind 127.0.0.1:1 --workers 3' }, dir), 3);
    assert.equal(gunicornWorkers(['gunicorn', '-c', 'gunicorn.conf.py', 'app:app'], { WEB_CONCURRENCY: '9' }, dir), 7);
    assert.equal(gunicornWorkers(['gunicorn', 'app:app'], { WEB_CONCURRENCY: '9' }, dir), 9);
    assert.equal(gunicornWorkers(['gunicorn', 'app:app'], {}, dir), 1);
    // An expression in the config cannot be read: detect instead.
    assert.equal(gunicornWorkers(['gunicorn', '-c', 'gunicorn-expr.py', 'app:app'], {}, dir), undefined);
  });
  it('uWSGI: -p/--processes/--workers, undefined with a config file, else 1', () => {
    assert.equal(uwsgiWorkers(['uwsgi', '--processes', '4']), 4);
    assert.equal(uwsgiWorkers(['uwsgi', '-p', '2']), 2);
    assert.equal(uwsgiWorkers(['uwsgi', '--workers=3']), 3);
    assert.equal(uwsgiWorkers(['uwsgi', '--ini', 'app.ini']), undefined);
    assert.equal(uwsgiWorkers(['uwsgi', '--http', ':1']), 1);
  });
  it('Puma: -w, `workers N` in its -C config, $WEB_CONCURRENCY, else undefined (single mode or detect)', () => {
    assert.equal(pumaWorkers(['puma', '-w', '2'], {}, dir), 2);
    assert.equal(pumaWorkers(['puma', '-C', 'puma.rb'], {}, dir), 3);
    assert.equal(pumaWorkers(['puma'], { WEB_CONCURRENCY: '5' }, dir), 5);
    assert.equal(pumaWorkers(['puma'], {}, dir), undefined);
  });
  it('Unicorn: worker_processes in its -c config, else 1; an expression is detected', () => {
    assert.equal(unicornWorkers(['unicorn', '-c', 'unicorn.rb'], dir), 4);
    assert.equal(unicornWorkers(['unicorn'], dir), 1);
    assert.equal(unicornWorkers(['unicorn', '-c', 'unicorn-env.rb'], dir), undefined);
  });
  it('the family is guessed from the command; each family has its stop signal and roles', () => {
    assert.equal(familyForCommand(['gunicorn', 'app:app']).name, 'gunicorn');
    assert.equal(familyForCommand(['/usr/bin/python3', '/usr/bin/gunicorn', 'app:app']).name, 'gunicorn');
    assert.equal(familyForCommand(['uwsgi_python3', '--http', ':1']).name, 'uwsgi');
    assert.equal(familyForCommand(['bundle', 'exec', 'puma']).name, 'puma');
    assert.equal(familyForCommand(['bundle', 'exec', 'unicorn']).name, 'unicorn');
    assert.equal(familyForCommand(['node', 'server.js']).name, 'generic');
    assert.equal(familyForCommand(['uvicorn', '--workers', '3', 'app:app']).name, 'uvicorn');
    assert.equal(familyForCommand(['/usr/bin/python3', '-m', 'uvicorn', 'app:app']).name, 'uvicorn');
    assert.equal(familyForCommand(['gunicorn', '-k', 'uvicorn.workers.UvicornWorker', 'app:app']).name, 'gunicorn');
    for (const a of FAMILIES) {
      // INT is the quick stop (uWSGI reloads on TERM, gunicorn's TERM is graceful); Apache's is TERM (WINCH is graceful),
      // Celery's TERM is its warm shutdown, immediate for an idle pool.
      assert.equal(a.stopSignal, a.name === 'apache' || a.name === 'celery' ? 'SIGTERM' : 'SIGINT', a.name);
      // Passenger's roles are its processes' titles (its watchdog is not the launched process): pid 10 has none.
      assert.equal(a.roleOf(10, 1, 10), a.name === 'passenger' ? 'other' : 'master', a.name);
      // uvicorn's workers are known by their command line (a spawned interpreter): pid 11 here is no such process.
      assert.equal(a.roleOf(11, 10, 10), a.name === 'uvicorn' || a.name === 'passenger' ? 'other' : 'worker', a.name);
      assert.equal(a.roleOf(12, 11, 10), 'other');
    }
    assert.equal(familyNamed('puma')?.reloadSignal, 'SIGUSR2');
    assert.equal(familyNamed('gunicorn')?.reloadSignal, 'SIGHUP');
    assert.equal(familyNamed('uvicorn')?.reloadSignal, undefined);
  });
  it('uvicorn: --workers, then $UVICORN_WORKERS, then $WEB_CONCURRENCY; one process (no --workers) is detected', () => {
    assert.equal(uvicorn.workersFromCommand(['uvicorn', '--workers', '3', 'app:app'], {}, dir), 3);
    assert.equal(uvicorn.workersFromCommand(['uvicorn', '--workers=4', 'app:app'], { WEB_CONCURRENCY: '2' }, dir), 4);
    assert.equal(uvicorn.workersFromCommand(['uvicorn', 'app:app'], { UVICORN_WORKERS: '5', WEB_CONCURRENCY: '2' }, dir), 5);
    assert.equal(uvicorn.workersFromCommand(['uvicorn', 'app:app'], { WEB_CONCURRENCY: '2' }, dir), 2);
    assert.equal(uvicorn.workersFromCommand(['uvicorn', 'app:app'], {}, dir), undefined);
  });
});
