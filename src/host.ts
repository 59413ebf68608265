import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import type { HostInfo, SoftwareInfo } from './results/types.js';

function versionOf(argv: string[]): Promise<string> {
  if (argv.length === 0) return Promise.resolve('unknown');
  return new Promise((resolveVersion) => {
    execFile(argv[0] as string, argv.slice(1), { timeout: 10_000 }, (error, stdout, stderr) => {
      const text = `${stdout}${stderr}`.trim().split('\n')[0] ?? '';
      resolveVersion(error && text === '' ? 'unknown' : text);
    });
  });
}

/** Host metadata for the results file. systeminformation is loaded here only, off the snapshot path. */
export async function hostInfo(serverVersionCommand: string[]): Promise<HostInfo> {
  const si = createRequire(import.meta.url)('systeminformation') as typeof import('systeminformation');
  const [os, cpu, mem, server] = await Promise.all([si.osInfo(), si.cpu(), si.mem(), versionOf(serverVersionCommand)]);
  return {
    os: `${os.distro} ${os.release}`.trim(),
    kernel: os.kernel,
    cpu: `${cpu.manufacturer} ${cpu.brand}`.trim(),
    cores: cpu.cores,
    memoryBytes: mem.total,
    node: process.version,
    server,
  };
}

// Packages whose versions move a server's memory: web frameworks and numeric libraries (the servers' own come from their families).
const PYTHON_PACKAGES = [
  'Django',
  'Flask',
  'fastapi',
  'starlette',
  'gevent',
  'eventlet',
  'numpy',
  'pandas',
  'scipy',
  'matplotlib',
  'SQLAlchemy',
];
const RUBY_GEMS = ['rack', 'rails', 'sinatra'];
const pythonProbe = (names: string[]) => `import json, sys
from importlib import metadata
v = {}
for n in ${JSON.stringify(names)}:
    try:
        v[n.lower()] = metadata.version(n)
    except Exception:
        pass
print(json.dumps({"interpreter": "Python " + sys.version.split()[0], "packages": v}))`;
const rubyProbe = (gems: string[]) =>
  `require "json"; v = {}; %w[${gems.join(' ')}].each { |g| begin; v[g] = Gem::Specification.find_by_name(g).version.to_s; rescue Exception; end }; puts JSON.dump(interpreter: "ruby " + RUBY_VERSION, packages: v)`;

function run(argv: string[]): Promise<string> {
  return new Promise((resolveRun) => {
    execFile(argv[0] as string, argv.slice(1), { timeout: 15_000 }, (error, stdout) => resolveRun(error ? '' : stdout.trim()));
  });
}

/**
 * The interpreter a server runs on (the master's executable) and the versions of the main packages
 * it can import: a baseline made with other versions is not comparable (\`check\` refuses it).
 */
export async function softwareInfo(
  exe: string | undefined,
  servers: { python: string[]; ruby: string[] } = { python: [], ruby: [] },
): Promise<SoftwareInfo> {
  const name = exe ? basename(exe) : '';
  let text = '';
  if (/^python/.test(name)) text = await run([exe as string, '-c', pythonProbe([...servers.python, ...PYTHON_PACKAGES])]);
  else if (/^ruby/.test(name)) text = await run([exe as string, '-e', rubyProbe([...servers.ruby, ...RUBY_GEMS])]);
  else if (/^node/.test(name)) return { interpreter: `node ${await run([exe as string, '--version'])}`, packages: {} };
  try {
    const parsed = JSON.parse(text) as SoftwareInfo;
    return { interpreter: String(parsed.interpreter ?? ''), packages: parsed.packages ?? {} };
  } catch {
    return { interpreter: name, packages: {} };
  }
}
