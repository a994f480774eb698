import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildBwrapCommand,
  DEFAULT_SYSTEM_PATHS,
  prlimitArgs,
  type BwrapHost,
} from './bubblewrap-args.js';
import { nodeDirIfOutsideSystem, parseBwrapFeatures, probeSystemPaths } from './bubblewrap.js';
import type { SandboxSpec } from './runtime.js';

const spec = (over: Partial<SandboxSpec> = {}): SandboxSpec => ({
  id: 'team-1',
  command: ['/usr/bin/node', '/app/runner.js', '--flag'],
  mounts: [
    { hostPath: '/data/groups/team/sub', sandboxPath: '/workspace/group/sub', readOnly: true },
    { hostPath: '/data/groups/team', sandboxPath: '/workspace/group', readOnly: false },
    { hostPath: '/data/groups/global', sandboxPath: '/workspace/global', readOnly: true },
  ],
  env: { PATH: '/usr/bin:/bin', HOME: '/workspace/group' },
  workdir: '/workspace/group',
  uid: 1000,
  gid: 1001,
  limits: { memoryMb: 256, cpus: 2, pids: 64, wallTimeMs: 10_500 },
  network: { mode: 'none' },
  ...over,
});

const host = (over: Partial<BwrapHost> = {}): BwrapHost => ({
  bwrapPath: '/usr/bin/bwrap',
  prlimitPath: '/usr/bin/prlimit',
  features: { disableUserns: true, tmpfsSize: true, bindFd: true },
  systemPaths: [{ path: '/usr' }, { path: '/bin', symlinkTarget: 'usr/bin' }, { path: '/etc/ssl' }],
  ...over,
});

/** Pairs/triples of an option with its operands, for order-independent checks. */
function seqAt(args: string[], seq: string[]): number {
  return args.findIndex((_, i) => seq.every((s, j) => args[i + j] === s));
}
const hasSeq = (args: string[], seq: string[]): boolean => seqAt(args, seq) >= 0;

describe('buildBwrapCommand', () => {
  it('wraps bwrap in prlimit with memory, nproc, cpu time and no core dumps', () => {
    const { file, args } = buildBwrapCommand(spec(), host());
    expect(file).toBe('/usr/bin/prlimit');
    const sep = args.indexOf('--');
    expect(args.slice(0, sep)).toEqual([
      `--data=${256 * 1024 * 1024}`,
      '--nproc=64',
      '--cpu=21',
      '--core=0',
    ]);
    expect(args[sep + 1]).toBe('/usr/bin/bwrap');
  });

  it('unshares everything, disables nested userns, dies with parent, new session', () => {
    const { args } = buildBwrapCommand(spec(), host());
    const bw = args.slice(args.indexOf('/usr/bin/bwrap') + 1);
    expect(bw.slice(0, 8)).toEqual([
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
      '--cap-drop',
      'ALL',
      '--clearenv',
    ]);
    expect(bw).not.toContain('--share-net');
  });

  it('omits --disable-userns and --size when bwrap lacks them, and prlimit when absent', () => {
    const { file, args } = buildBwrapCommand(
      spec(),
      host({
        prlimitPath: null,
        features: { disableUserns: false, tmpfsSize: false, bindFd: false },
      }),
    );
    expect(file).toBe('/usr/bin/bwrap');
    expect(args).not.toContain('--disable-userns');
    expect(args).not.toContain('--size');
    expect(args[0]).toBe('--unshare-all');
  });

  it('clears the environment and sets exactly the declared variables', () => {
    const { args } = buildBwrapCommand(spec(), host());
    const clear = args.indexOf('--clearenv');
    expect(args.slice(clear, clear + 7)).toEqual([
      '--clearenv',
      '--setenv',
      'HOME',
      '/workspace/group',
      '--setenv',
      'PATH',
      '/usr/bin:/bin',
    ]);
    expect(args.filter((a) => a === '--setenv')).toHaveLength(2);
  });

  it('binds system paths read-only, recreates symlinks, and never binds secrets', () => {
    const { args } = buildBwrapCommand(spec(), host());
    expect(hasSeq(args, ['--ro-bind', '/usr', '/usr'])).toBe(true);
    expect(hasSeq(args, ['--symlink', 'usr/bin', '/bin'])).toBe(true);
    expect(hasSeq(args, ['--ro-bind', '/etc/ssl', '/etc/ssl'])).toBe(true);
    for (const p of ['/etc/shadow', '/root', '/home', '/etc/passwd', '/etc'])
      expect(args).not.toContain(p);
    for (const p of ['/etc/shadow', '/root', '/home', '/etc/passwd', '/etc']) {
      expect(DEFAULT_SYSTEM_PATHS).not.toContain(p);
    }
  });

  it('mounts proc, dev, a sized /tmp, then declared binds parents first', () => {
    const { args } = buildBwrapCommand(spec(), host());
    expect(
      hasSeq(args, [
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        '--size',
        String(256 << 20),
        '--tmpfs',
        '/tmp',
      ]),
    ).toBe(true);
    const group = seqAt(args, ['--bind', '/data/groups/team', '/workspace/group']);
    const sub = seqAt(args, ['--ro-bind', '/data/groups/team/sub', '/workspace/group/sub']);
    expect(hasSeq(args, ['--ro-bind', '/data/groups/global', '/workspace/global'])).toBe(true);
    expect(group).toBeGreaterThan(args.indexOf('--tmpfs'));
    expect(sub).toBeGreaterThan(group);
  });

  it('binds a mount by its descriptor (passed as fd 3, 4, …) when bwrap can', () => {
    const mounts = [
      ...spec().mounts,
      { hostPath: '/home/a/app', sandboxPath: '/workspace/extra/app', readOnly: false, fd: 41 },
      { hostPath: '/home/a/doc', sandboxPath: '/workspace/extra/doc', readOnly: true, fd: 17 },
    ];
    const built = buildBwrapCommand(spec({ mounts }), host());
    expect(hasSeq(built.args, ['--bind-fd', '3', '/workspace/extra/app'])).toBe(true);
    expect(hasSeq(built.args, ['--ro-bind-fd', '4', '/workspace/extra/doc'])).toBe(true);
    expect(built.args).not.toContain('/home/a/app');
    expect(built.fds).toEqual([41, 17]);
    // Without --bind-fd: by path (the mount policy's checks still ran just before).
    const old = buildBwrapCommand(
      spec({ mounts }),
      host({ features: { disableUserns: true, tmpfsSize: true, bindFd: false } }),
    );
    expect(hasSeq(old.args, ['--bind', '/home/a/app', '/workspace/extra/app'])).toBe(true);
    expect(old.fds).toEqual([]);
  });

  it('sets uid/gid, workdir, a read-only root, then the command after --', () => {
    const { args } = buildBwrapCommand(spec(), host());
    expect(
      hasSeq(args, [
        '--uid',
        '1000',
        '--gid',
        '1001',
        '--chdir',
        '/workspace/group',
        '--remount-ro',
        '/',
      ]),
    ).toBe(true);
    const end = args.lastIndexOf('--');
    expect(args.slice(end + 1)).toEqual(['/usr/bin/node', '/app/runner.js', '--flag']);
  });

  it('socket mode binds the host socket and keeps the network unshared', () => {
    const { args } = buildBwrapCommand(
      spec({
        network: {
          mode: 'socket',
          hostSocketPath: '/run/cp/proxy.sock',
          sandboxSocketPath: '/run/proxy.sock',
        },
      }),
      host(),
    );
    expect(hasSeq(args, ['--ro-bind', '/run/cp/proxy.sock', '/run/proxy.sock'])).toBe(true);
    expect(args).toContain('--unshare-all');
    expect(args).not.toContain('--share-net');
  });
});

describe('prlimitArgs', () => {
  it('derives CPU seconds from wall time × cpus, at least 1', () => {
    expect(prlimitArgs({ memoryMb: 32, cpus: 0.5, pids: 8, wallTimeMs: 100 })).toContain('--cpu=1');
    expect(prlimitArgs({ memoryMb: 32, cpus: 1.5, pids: 8, wallTimeMs: 60_000 })).toContain(
      '--cpu=90',
    );
  });
});

describe('host probing', () => {
  it('parses bwrap --help for optional features', () => {
    expect(
      parseBwrapFeatures(
        '  --disable-userns   Disable…\n    --size BYTES  Set size\n    --ro-bind-fd FD DEST  Bind',
      ),
    ).toEqual({ disableUserns: true, tmpfsSize: true, bindFd: true });
    expect(parseBwrapFeatures('  --unshare-all\n')).toEqual({
      disableUserns: false,
      tmpfsSize: false,
      bindFd: false,
    });
  });

  it('knows when the node binary needs its own read-only mount', () => {
    expect(nodeDirIfOutsideSystem('/usr/bin/env')).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'clawpod-node-'));
    try {
      writeFileSync(join(dir, 'node'), '');
      expect(nodeDirIfOutsideSystem(join(dir, 'node'))).toBe(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps dirs, recreates inner symlinks, binds outer ones, skips missing and dangling', () => {
    const root = mkdtempSync(join(tmpdir(), 'clawpod-sys-'));
    try {
      mkdirSync(join(root, 'usr/bin'), { recursive: true });
      mkdirSync(join(root, 'elsewhere'));
      writeFileSync(join(root, 'elsewhere/resolv.conf'), 'nameserver 127.0.0.53');
      symlinkSync('usr/bin', join(root, 'bin'));
      symlinkSync(join(root, 'elsewhere/resolv.conf'), join(root, 'resolv.conf'));
      symlinkSync(join(root, 'gone'), join(root, 'dangling'));
      const paths = ['usr', 'bin', 'resolv.conf', 'dangling', 'missing'].map((p) => join(root, p));
      expect(probeSystemPaths(paths)).toEqual([
        { path: join(root, 'usr') },
        { path: join(root, 'bin'), symlinkTarget: 'usr/bin' },
        { path: join(root, 'resolv.conf') },
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
