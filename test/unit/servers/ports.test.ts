import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apache } from '../../../src/servers/apache.js';
import { loopbackPort } from '../../../src/servers/config.js';
import type { ServerFamily } from '../../../src/servers/family.js';
import { gunicorn } from '../../../src/servers/gunicorn.js';
import { puma } from '../../../src/servers/puma.js';
import { unicorn } from '../../../src/servers/unicorn.js';
import { uvicorn } from '../../../src/servers/uvicorn.js';
import { uwsgi } from '../../../src/servers/uwsgi.js';
import { tempDir } from '../../helpers.js';

const portOf = (f: ServerFamily) => (argv: string[], cwd: string) => f.portFromCommand?.(argv, cwd);
const [gunicornPort, uwsgiPort, pumaPort, unicornPort, apachePort, uvicornPort] = [gunicorn, uwsgi, puma, unicorn, apache, uvicorn].map(
  portOf,
) as [
  ReturnType<typeof portOf>,
  ReturnType<typeof portOf>,
  ReturnType<typeof portOf>,
  ReturnType<typeof portOf>,
  ReturnType<typeof portOf>,
  ReturnType<typeof portOf>,
];

const dir = tempDir('memcompare-ports-');
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return name;
};

describe("a port fixed in the server's flags or its own configuration, as users write them", () => {
  it('loopback addresses only', () => {
    assert.equal(loopbackPort('127.0.0.1:8000'), 8000);
    assert.equal(loopbackPort('tcp://127.0.0.1:9292'), 9292);
    assert.equal(loopbackPort('"localhost:3000"'), 3000);
    assert.equal(loopbackPort('[::1]:8080'), 8080);
    assert.equal(loopbackPort(':8080'), 8080);
    assert.equal(loopbackPort('8080'), 8080);
    assert.equal(loopbackPort('0.0.0.0:8080'), 8080, 'every address includes loopback');
    assert.equal(loopbackPort('10.0.0.5:8080'), undefined, 'not a loopback address');
    assert.equal(loopbackPort('unix:/run/app.sock'), undefined);
    assert.equal(loopbackPort('127.0.0.1:99999'), undefined);
  });

  it('gunicorn: -b, --bind=, or bind in its -c config', () => {
    assert.equal(gunicornPort(['gunicorn', '-b', '127.0.0.1:8001', 'app:app'], dir), 8001);
    assert.equal(gunicornPort(['gunicorn', '--bind=127.0.0.1:8002', 'app:app'], dir), 8002);
    const conf = file('gunicorn.conf.py', 'import os\nbind = "127.0.0.1:8003"\nworkers = 3\n');
    assert.equal(gunicornPort(['gunicorn', '-c', conf, 'app:app'], dir), 8003);
    assert.equal(gunicornPort(['gunicorn', '-c', file('g2.py', 'bind = ["127.0.0.1:8004"]\n'), 'app:app'], dir), 8004);
    assert.equal(gunicornPort(['gunicorn', 'app:app'], dir), undefined);
  });

  it('uWSGI: --http-socket on the command line or http-socket in its ini', () => {
    assert.equal(uwsgiPort(['uwsgi', '--http-socket', '127.0.0.1:9001'], dir), 9001);
    const ini = file('app.ini', '[uwsgi]\nmaster = true\nprocesses = 4\nhttp-socket = 127.0.0.1:9002\n');
    assert.equal(uwsgiPort(['uwsgi', '--ini', ini], dir), 9002);
    assert.equal(uwsgiPort(['uwsgi', ini], dir), 9002);
  });

  it("Puma: -b, -p, or its config's bind or port", () => {
    assert.equal(pumaPort(['puma', '-b', 'tcp://127.0.0.1:9201'], dir), 9201);
    assert.equal(pumaPort(['puma', '-p', '9202'], dir), 9202);
    assert.equal(pumaPort(['puma', '-C', file('puma.rb', "workers 2\nbind 'tcp://127.0.0.1:9203'\n")], dir), 9203);
    assert.equal(pumaPort(['puma', '-C', file('puma2.rb', "port ENV.fetch('PORT') { 3000 }\nport 9204\n")], dir), 9204);
  });

  it("Unicorn: -l or its config's listen", () => {
    assert.equal(unicornPort(['unicorn', '-l', '127.0.0.1:9301'], dir), 9301);
    assert.equal(
      unicornPort(['unicorn', '-c', file('unicorn.rb', 'worker_processes 2\nlisten "127.0.0.1:9302", backlog: 64\n')], dir),
      9302,
    );
    assert.equal(unicornPort(['unicorn', '-c', file('unicorn2.rb', 'listen 9303\n')], dir), 9303);
  });

  it('Apache: Listen in its -f configuration or a -C directive', () => {
    const conf = file('httpd.conf', 'ServerRoot /etc/apache2\nListen 127.0.0.1:9401\nStartServers 4\n');
    assert.equal(apachePort(['apache2', '-DFOREGROUND', '-f', join(dir, conf)], dir), 9401);
    assert.equal(apachePort(['apache2', '-C', 'Listen 9402', '-DFOREGROUND'], dir), 9402);
  });

  it('uvicorn: --port, else none (its default 8000 is not fixed by the command)', () => {
    assert.equal(uvicornPort(['uvicorn', '--workers', '3', '--port', '9501', 'app:app'], dir), 9501);
    assert.equal(uvicornPort(['uvicorn', '--port=9502', 'app:app'], dir), 9502);
    assert.equal(uvicornPort(['uvicorn', 'app:app'], dir), undefined);
  });
});
