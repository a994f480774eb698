import { describe, expect, it } from 'vitest';
import {
  buildContainerRunArgs,
  checkImage,
  containerName,
  DEFAULT_IMAGE,
} from './container-args.js';
import { SandboxSpecError } from './errors.js';
import type { SandboxSpec } from './runtime.js';

const spec = (over: Partial<SandboxSpec> = {}): SandboxSpec => ({
  id: 'team-1',
  command: ['node', '/app/runner.js'],
  mounts: [
    { hostPath: '/data/groups/team', sandboxPath: '/workspace/group', readOnly: false },
    { hostPath: '/data/groups/global', sandboxPath: '/workspace/global', readOnly: true },
  ],
  env: { PATH: '/usr/bin', A: 'x=y z' },
  workdir: '/workspace/group',
  uid: 1000,
  gid: 1000,
  limits: { memoryMb: 512, cpus: 1.5, pids: 128, wallTimeMs: 1000 },
  network: { mode: 'none' },
  ...over,
});

const common = (flavorExtra: string[]) => [
  '--label',
  'clawpod=1',
  '--name',
  'clawpod-team-1',
  ...flavorExtra,
  '-e',
  'A=x=y z',
  '-e',
  'PATH=/usr/bin',
];

describe('buildContainerRunArgs', () => {
  it('podman: locked-down run with limits, label, name, explicit env only', () => {
    expect(buildContainerRunArgs(spec(), 'podman')).toEqual([
      'run',
      '--rm',
      '-i',
      '--init',
      '--network',
      'none',
      '--user',
      '1000:1000',
      '--read-only',
      '--tmpfs',
      '/tmp:rw,nosuid,nodev,size=512m',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--memory',
      '512m',
      '--memory-swap',
      '512m',
      '--cpus',
      '1.5',
      '--pids-limit',
      '128',
      ...common(['--unsetenv-all']),
      '-v',
      '/data/groups/team:/workspace/group',
      '-v',
      '/data/groups/global:/workspace/global:ro',
      '-w',
      '/workspace/group',
      DEFAULT_IMAGE,
      'node',
      '/app/runner.js',
    ]);
  });

  it('docker: same flags without podman-only --unsetenv-all', () => {
    const a = buildContainerRunArgs(spec({ image: 'agent:2' }), 'docker');
    expect(a).not.toContain('--unsetenv-all');
    expect(a.slice(0, 22)).toEqual(buildContainerRunArgs(spec(), 'podman').slice(0, 22));
    expect(a.slice(-3)).toEqual(['agent:2', 'node', '/app/runner.js']);
  });

  it('apple: its own dialect (VM sizes, --mount, no unsupported flags)', () => {
    expect(buildContainerRunArgs(spec(), 'apple')).toEqual([
      'run',
      '--rm',
      '-i',
      '--init',
      '--network',
      'none',
      '--user',
      '1000:1000',
      '--tmpfs',
      '/tmp',
      '--cap-drop',
      'ALL',
      '--memory',
      '512M',
      '--cpus',
      '2',
      ...common([]),
      '--mount',
      'type=bind,source=/data/groups/team,target=/workspace/group',
      '--mount',
      'type=bind,source=/data/groups/global,target=/workspace/global,readonly',
      '-w',
      '/workspace/group',
      DEFAULT_IMAGE,
      'node',
      '/app/runner.js',
    ]);
  });

  it('labels containers with their installation so orphan cleanup stays scoped', () => {
    const args = buildContainerRunArgs(spec(), 'podman', DEFAULT_IMAGE, 'abc123');
    expect(args.join(' ')).toContain('--label clawpod.owner=abc123');
    expect(buildContainerRunArgs(spec(), 'podman').join(' ')).not.toContain('clawpod.owner');
    expect(() => buildContainerRunArgs(spec(), 'podman', DEFAULT_IMAGE, 'Bad Owner')).toThrow(
      /owner/,
    );
  });

  it('socket mode mounts the socket and keeps --network none', () => {
    const s = spec({
      network: {
        mode: 'socket',
        hostSocketPath: '/run/cp/p.sock',
        sandboxSocketPath: '/run/p.sock',
      },
    });
    for (const flavor of ['podman', 'docker'] as const) {
      const a = buildContainerRunArgs(s, flavor);
      expect(a).toContain('/run/cp/p.sock:/run/p.sock');
      expect(a.slice(4, 6)).toEqual(['--network', 'none']);
    }
    expect(buildContainerRunArgs(s, 'apple')).toContain(
      'type=bind,source=/run/cp/p.sock,target=/run/p.sock',
    );
  });

  it('refuses names and paths that would change the meaning of the CLI', () => {
    expect(() => buildContainerRunArgs(spec({ id: 'Bad Id' }), 'podman')).toThrow(SandboxSpecError);
    expect(() => buildContainerRunArgs(spec({ image: '--privileged' }), 'docker')).toThrow(
      /Invalid container image/,
    );
    const colon = spec({
      mounts: [{ hostPath: '/a:b', sandboxPath: '/workspace/x', readOnly: true }],
    });
    expect(() => buildContainerRunArgs(colon, 'podman')).toThrow(/must be absolute without ':'/);
    const comma = spec({
      mounts: [{ hostPath: '/a,b', sandboxPath: '/workspace/x', readOnly: true }],
    });
    expect(() => buildContainerRunArgs(comma, 'apple')).toThrow(SandboxSpecError);
  });

  it('validates container names and images', () => {
    expect(containerName('a.b_c-1')).toBe('clawpod-a.b_c-1');
    expect(() => containerName('../x')).toThrow(SandboxSpecError);
    expect(checkImage('ghcr.io/org/agent@sha256:abc')).toBe('ghcr.io/org/agent@sha256:abc');
    expect(() => checkImage('img;rm -rf /')).toThrow(SandboxSpecError);
  });
});
