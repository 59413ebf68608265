import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { HostInfo } from './results/types.js';

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
