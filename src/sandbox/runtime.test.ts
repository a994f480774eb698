import { describe, expect, it } from 'vitest';
import { SandboxSpecError } from './errors.js';
import { validateSpec, type SandboxSpec } from './runtime.js';

const base = (): SandboxSpec => ({
  id: 'team-1.run_2',
  command: ['node', 'agent.js'],
  mounts: [
    { hostPath: '/srv/clawpod/groups/team', sandboxPath: '/workspace/group', readOnly: false },
  ],
  env: { PATH: '/usr/bin:/bin', HOME: '/workspace/group' },
  workdir: '/workspace/group',
  uid: 1000,
  gid: 1000,
  limits: { memoryMb: 512, cpus: 1, pids: 256, wallTimeMs: 60_000 },
  network: { mode: 'none' },
});

function rejects(mutate: (s: SandboxSpec) => void, pattern: RegExp): void {
  const s = base();
  mutate(s);
  expect(() => validateSpec(s)).toThrow(SandboxSpecError);
  expect(() => validateSpec(s)).toThrow(pattern);
}

describe('validateSpec', () => {
  it('accepts a well-formed spec, including socket mode and an image', () => {
    const s = base();
    s.network = {
      mode: 'socket',
      hostSocketPath: '/run/clawpod/proxy.sock',
      sandboxSocketPath: '/run/proxy.sock',
    };
    s.image = 'registry.example/agent:1.2';
    expect(validateSpec(s)).toBe(s);
  });

  it('refuses bad ids', () => {
    for (const id of ['', 'Team', '-x', '.x', 'a/b', 'a b', 'x'.repeat(102)]) {
      rejects((s) => (s.id = id), /id must match/);
    }
  });

  it('refuses root uid and gid', () => {
    rejects((s) => (s.uid = 0), /uid must be non-zero/);
    rejects((s) => (s.gid = 0), /gid must be non-zero/);
  });

  it('refuses an empty command and NUL bytes', () => {
    rejects((s) => (s.command = []), /command must not be empty/);
    rejects((s) => (s.command = ['node', 'a\0b']), /NUL/);
    rejects((s) => (s.env = { A: 'x\0y' }), /NUL/);
  });

  it('refuses bad env names', () => {
    rejects((s) => (s.env = { 'A-B': 'x' }), /env names/);
    rejects((s) => (s.env = { '1A': 'x' }), /env names/);
  });

  it('refuses relative, unnormalised, colon and reserved mount paths', () => {
    const m = (hostPath: string, sandboxPath: string) => (s: SandboxSpec) =>
      (s.mounts = [{ hostPath, sandboxPath, readOnly: true }]);
    rejects(m('relative/x', '/workspace/x'), /hostPath must be absolute/);
    rejects(m('/a:b', '/workspace/x'), /must not contain ':'/);
    rejects(m('/a', '/workspace/../etc'), /normalised/);
    rejects(m('/a', '/workspace//x'), /normalised/);
    rejects(m('/a', '/workspace/x:y'), /must not contain ':'/);
    rejects(m('/a', '/'), /must not be \//);
    rejects(m('/a', '/proc/self'), /must not be \//);
    rejects(m('/a', '/usr'), /must not be \//);
    rejects(m('/a', '/etc/passwd'), /must not be \//);
  });

  it('refuses two mounts on the same sandbox path', () => {
    rejects(
      (s) => s.mounts.push({ hostPath: '/other', sandboxPath: '/workspace/group', readOnly: true }),
      /two mounts on \/workspace\/group/,
    );
  });

  it('refuses silly limits and a relative workdir', () => {
    rejects((s) => (s.limits.memoryMb = 8), /memoryMb/);
    rejects((s) => (s.limits.cpus = 0), /cpus/);
    rejects((s) => (s.limits.wallTimeMs = 0), /wallTimeMs/);
    rejects((s) => (s.workdir = 'workspace'), /workdir must be absolute/);
  });

  it('refuses image references that could be flags', () => {
    rejects((s) => (s.image = '--privileged'), /image/);
    rejects((s) => (s.image = 'a b'), /image/);
  });

  it('names the spec id and the key in the message', () => {
    const s = base();
    s.uid = 0;
    expect(() => validateSpec(s)).toThrow(/"team-1.run_2".*uid/);
  });
});
