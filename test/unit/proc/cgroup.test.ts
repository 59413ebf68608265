import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { containerFigures, memoryCgroupPath, readCgroupMemory } from '../../../src/proc/cgroup.js';
import { tempDir } from '../../helpers.js';

/** A /proc and /sys/fs/cgroup laid out as the kernel documents them (cgroup-v1/memory.rst, cgroup-v2.rst). */
const base = tempDir('memcompare-cgroup-');
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(base, 'tree-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('container figures from cgroup files', () => {
  it('finds the memory controller line in /proc/<pid>/cgroup, v1 and v2', () => {
    assert.deepEqual(memoryCgroupPath('12:pids:/\n4:memory:/docker/abc\n0::/\n'), { version: 1, path: '/docker/abc' });
    assert.deepEqual(memoryCgroupPath('0::/system.slice/app.service\n'), { version: 2, path: '/system.slice/app.service' });
    assert.equal(memoryCgroupPath('3:cpu,cpuacct:/\n'), undefined);
  });

  it('v2 with a limit, page cache and an OOM kill', () => {
    const root = tree({
      'proc/100/cgroup': '0::/kubepods/pod1/app\n',
      'sys/kubepods/pod1/app/memory.current': '268435456\n',
      'sys/kubepods/pod1/app/memory.peak': '300000000\n',
      'sys/kubepods/pod1/app/memory.max': '314572800\n',
      'sys/kubepods/pod1/app/memory.stat':
        'anon 150000000\nfile 100000000\nkernel 8000000\nkernel_stack 1000000\nshmem 2000000\nsock 4096\nactive_file 60000000\ninactive_file 30000000\n',
      'sys/kubepods/pod1/app/memory.events': 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n',
      'sys/kubepods/pod1/app/cgroup.procs': '100\n101\n102\n',
    });
    const c = readCgroupMemory(100, join(root, 'proc'), join(root, 'sys'));
    assert.ok(c);
    assert.equal(c.version, 2);
    assert.equal(c.currentBytes, 268435456);
    assert.equal(c.peakBytes, 300000000);
    assert.equal(c.limitBytes, 314572800);
    assert.equal(c.anonBytes, 150000000);
    assert.equal(c.fileBytes, 100000000);
    assert.equal(c.kernelBytes, 8000000);
    assert.equal(c.sockBytes, 4096);
    assert.equal(c.reclaimableBytes, 90000000);
    assert.equal(c.oomKills, 1);
    const f = containerFigures(c, new Set([100, 101, 102]));
    assert.equal(f.exclusive, true);
    assert.equal(f.headroomBytes, 314572800 - 300000000);
  });

  it('v2 without a limit ("max") and on a kernel without memory.peak; a cgroup shared with others attributes nothing', () => {
    const root = tree({
      'proc/7/cgroup': '0::/user.slice\n',
      'sys/user.slice/memory.current': '1000\n',
      'sys/user.slice/memory.max': 'max\n',
      'sys/user.slice/memory.stat': 'anon 600\nfile 400\n',
      'sys/user.slice/memory.events': 'oom 0\noom_kill 0\n',
      'sys/user.slice/cgroup.procs': '7\n8\n9\n',
    });
    const c = readCgroupMemory(7, join(root, 'proc'), join(root, 'sys'));
    assert.ok(c);
    assert.equal(c.limitBytes, null);
    assert.equal(c.peakBytes, null);
    assert.equal(c.kernelBytes, null);
    const f = containerFigures(c, new Set([7]));
    assert.equal(f.exclusive, false);
    assert.equal(f.otherProcesses, 2);
    assert.equal(f.headroomBytes, null);
  });

  it('v1 with a limit and hierarchical totals; v1 "no limit" is the page counter maximum', () => {
    const files = {
      'proc/5/cgroup': '9:memory:/docker/c1\n1:name=systemd:/docker/c1\n',
      'sys/memory/docker/c1/memory.usage_in_bytes': '524288000\n',
      'sys/memory/docker/c1/memory.max_usage_in_bytes': '600000000\n',
      'sys/memory/docker/c1/memory.limit_in_bytes': '1073741824\n',
      'sys/memory/docker/c1/memory.stat':
        'cache 1\nrss 2\nshmem 0\ntotal_cache 200000000\ntotal_rss 300000000\ntotal_shmem 1000000\ntotal_dirty 4000000\n',
      'sys/memory/docker/c1/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
      'sys/memory/docker/c1/cgroup.procs': '5\n',
    };
    const c = readCgroupMemory(5, join(tree(files), 'proc'), join(tree(files), 'sys'));
    assert.ok(c);
    assert.equal(c.version, 1);
    assert.equal(c.currentBytes, 524288000);
    assert.equal(c.peakBytes, 600000000);
    assert.equal(c.limitBytes, 1073741824);
    assert.equal(c.anonBytes, 300000000);
    assert.equal(c.fileBytes, 200000000);
    assert.equal(c.reclaimableBytes, 200000000 - 4000000 - 1000000);
    assert.equal(c.oomKills, 2);
    const unlimited = tree({ ...files, 'sys/memory/docker/c1/memory.limit_in_bytes': '9223372036854771712\n' });
    assert.equal(readCgroupMemory(5, join(unlimited, 'proc'), join(unlimited, 'sys'))?.limitBytes, null);
  });

  it('missing or unreadable files (v1 without the memory controller): undefined, never an error', () => {
    const root = tree({ 'proc/5/cgroup': '9:memory:/gone\n' });
    assert.equal(readCgroupMemory(5, join(root, 'proc'), join(root, 'sys')), undefined);
    assert.equal(readCgroupMemory(6, join(root, 'proc'), join(root, 'sys')), undefined);
  });

  it('this machine: its cgroup is read, and it holds processes outside any one tree', () => {
    const c = readCgroupMemory(process.pid);
    if (!c) return; // no memory cgroup here: nothing to read
    assert.ok(c.currentBytes > 0);
    const f = containerFigures(c, new Set([process.pid]));
    assert.equal(f.exclusive, c.pids.length <= 1);
  });
});
