import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../support/tmp.js';
import { cliEnv, runCli } from '../support/cli-helpers.js';

const tmp = useTempDirs();
let env: NodeJS.ProcessEnv;
let user: string;

beforeEach(async () => {
  // The owner's home (projects, the allowlist) apart from the data dir.
  user = tmp();
  env = cliEnv(tmp(), { HOME: user });
  mkdirSync(join(user, 'projects', 'app'), { recursive: true });
  mkdirSync(join(user, 'projects', 'docs'));
  mkdirSync(join(user, 'elsewhere'));
  mkdirSync(join(user, '.config', 'clawpod'), { recursive: true });
  writeFileSync(
    join(user, '.config', 'clawpod', 'mount-allowlist.json'),
    JSON.stringify({ allowedRoots: [{ path: '~/projects', allowReadWrite: true }] }),
  );
  expect((await runCli(['groups', 'add', 'coder', '--harness', 'codex'], env)).code).toBe(0);
});

describe('clawpod groups mount / unmount', () => {
  it('mounts, says when rw is read-only and why, shows, unmounts', async () => {
    const mount = await runCli(['groups', 'mount', 'coder', '~/projects/app', '--rw'], env);
    expect(mount.stderr).toBe('');
    expect(mount.code).toBe(0);
    expect(mount.stdout).toContain(
      'added mount of group coder: app: ~/projects/app -> /workspace/extra/app (read-only (read-write asked))',
    );
    expect(mount.stdout).toContain('"nonMainReadOnly": false');
    const docs = await runCli(
      ['groups', 'mount', 'coder', join(user, 'projects', 'docs'), '--name', 'ref'],
      env,
    );
    expect(docs.stdout).toContain('ref: ~/projects/docs -> /workspace/extra/ref (read-only)');

    const show = await runCli(['groups', 'show', 'coder'], env);
    expect(show.stdout).toMatch(/mounts: {4}app: ~\/projects\/app -> \/workspace\/extra\/app/);
    expect(show.stdout).toMatch(
      /\n {11}ref: ~\/projects\/docs -> \/workspace\/extra\/ref \(read-only\)/,
    );
    const json = JSON.parse((await runCli(['groups', 'show', 'coder', '--json'], env)).stdout) as {
      mounts: unknown[];
      mountStatus: Array<{ name: string; mode: string }>;
    };
    expect(json.mounts).toEqual([
      { name: 'app', hostPath: join(user, 'projects', 'app'), readOnly: false },
      { name: 'ref', hostPath: join(user, 'projects', 'docs'), readOnly: true },
    ]);
    expect(json.mountStatus.map((m) => [m.name, m.mode])).toEqual([
      ['app', 'ro'],
      ['ref', 'ro'],
    ]);

    const un = await runCli(['groups', 'unmount', 'coder', 'app'], env);
    expect(un.stdout).toBe('removed mount app from group coder (mounts: ref)\n');
    const again = await runCli(['groups', 'unmount', 'coder', 'app'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('group "coder" has no mount named "app" (mounts: ref)');
    const cleared = await runCli(['groups', 'set', 'coder', 'mounts=null'], env);
    expect(cleared.code).toBe(0);
    expect((await runCli(['groups', 'show', 'coder'], env)).stdout).not.toContain('mounts:');
  });

  it('a folder outside the allowlist fails (exit 1) with the path, the rule and the fix', async () => {
    const r = await runCli(['groups', 'mount', 'coder', '~/elsewhere'], env);
    expect(r.code).toBe(1);
    const file = join(user, '.config', 'clawpod', 'mount-allowlist.json');
    expect(r.stderr).toContain(
      `${join(user, 'elsewhere')} is not under any allowedRoots of ${file}`,
    );
    expect(r.stderr).toContain(`add "~/elsewhere" to allowedRoots in ${file}`);
    const bad = await runCli(['groups', 'mount', 'coder', '~/projects/app', '--name', '../x'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`Extra mount name "../x" contains '..'`);
  });

  it('groups set mounts=<JSON list> replaces them; bad JSON is a usage error', async () => {
    const r = await runCli(
      ['groups', 'set', 'coder', 'mounts=[{"hostPath":"~/projects/docs","name":"docs"}]'],
      env,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('docs: ~/projects/docs -> /workspace/extra/docs (read-only)');
    const bad = await runCli(['groups', 'set', 'coder', 'mounts=~/x'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('mounts must be a JSON list or null');
  });
});
