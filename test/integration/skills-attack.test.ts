/**
 * The agent is an adversary: the host writes skills into folders a sandbox can write (main's
 * `groups/global`, a group's own folder). A real bubblewrap sandbox, running as the group's uid,
 * plants symlinks there first; the host's copy, install and removal must never follow them.
 */
import { chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BubblewrapRuntime, nodeDirIfOutsideSystem } from '../../src/sandbox/bubblewrap.js';
import { findExecutable } from '../../src/sandbox/exec-util.js';
import { collect, makeLayout, type TestLayout } from '../../src/sandbox/test-support.js';
import { SkillInstaller } from '../../src/skills/installer.js';
import { installShippedSkills } from '../../src/skills/shipped.js';

const searchPath = process.env.PATH ?? '/usr/bin:/bin';
const nodeDir = nodeDirIfOutsideSystem(process.execPath);
const rt = new BubblewrapRuntime({ searchPath, extraSystemPaths: nodeDir ? [nodeDir] : [] });
const bwrap = findExecutable('bwrap', searchPath);
const avail = bwrap ? await rt.available() : null;
const root = process.getuid?.() === 0;
const skipReason = !bwrap
  ? 'SKIPPED: bwrap not installed'
  : !avail?.ok
    ? `SKIPPED: bwrap cannot create sandboxes here: ${avail?.reason}`
    : !root
      ? 'SKIPPED: the sandbox runs as a group uid (run the tests as root)'
      : '';
const AGENT = { uid: 70_001, gid: 70_000 };

describe.skipIf(skipReason !== '')(
  `skills written into sandbox-writable folders ${skipReason}`,
  () => {
    let l: TestLayout;
    let victim: string;

    beforeEach(() => {
      l = makeLayout('team', AGENT);
      chownSync(l.globalDir, AGENT.uid, AGENT.gid); // main's sandbox may write global
      victim = join(l.base, 'victim');
      mkdirSync(victim);
      writeFileSync(join(victim, 'keep.txt'), 'host data');
    });
    afterEach(() => l.cleanup());

    /** Runs `script` (node -e) as the agent with the group folder and global mounted rw. */
    async function agent(script: string): Promise<void> {
      const handle = rt.spawn({
        id: 'skills-attack',
        command: [process.execPath, '-e', script],
        mounts: [
          { hostPath: l.groupDir, sandboxPath: '/workspace/group', readOnly: false },
          { hostPath: l.globalDir, sandboxPath: '/workspace/global', readOnly: false },
        ],
        env: { PATH: '/usr/bin:/bin' },
        workdir: '/workspace/group',
        uid: AGENT.uid,
        gid: AGENT.gid,
        limits: { memoryMb: 512, cpus: 1, pids: 64, wallTimeMs: 15_000 },
        network: { mode: 'none' },
      });
      const r = await collect(handle);
      expect(r.exit, r.stderr).toEqual({ code: 0, signal: null });
    }

    const victimFiles = () => readdirSync(victim).sort();

    it('a symlinked global/.claude makes the shipped-skill copy fail, writing nothing outside', async () => {
      // The link names a host path: followed by the host, it would write into `victim`.
      await agent(
        `require('fs').symlinkSync(${JSON.stringify(victim)}, '/workspace/global/.claude')`,
      );
      await expect(
        installShippedSkills({ home: l.dataDir, globalDir: l.globalDir }),
      ).rejects.toThrow(/symlink/);
      expect(victimFiles()).toEqual(['keep.txt']);
    });

    it('a symlinked skills folder in a group makes `skills add` fail, writing nothing outside', async () => {
      await agent(
        `const fs = require('fs'); fs.mkdirSync('/workspace/group/.claude');
       fs.symlinkSync(${JSON.stringify(victim)}, '/workspace/group/.claude/skills')`,
      );
      const src = join(l.base, 'src');
      mkdirSync(src);
      writeFileSync(join(src, 'SKILL.md'), '---\nname: greet\ndescription: Greets.\n---\nhi\n');
      const installer = new SkillInstaller({
        home: l.dataDir,
        groupsDir: join(l.dataDir, 'groups'),
        groupExists: () => true,
      });
      await expect(installer.add(src, { group: 'team' })).rejects.toThrow(/symlink/);
      expect(victimFiles()).toEqual(['keep.txt']);
    });

    it('a skill folder swapped for a symlink is unlinked by `skills remove`, its target kept', async () => {
      await agent(
        `const fs = require('fs'); fs.mkdirSync('/workspace/group/.claude/skills', { recursive: true });
       fs.symlinkSync(${JSON.stringify(victim)}, '/workspace/group/.claude/skills/greet')`,
      );
      const installer = new SkillInstaller({
        home: l.dataDir,
        groupsDir: join(l.dataDir, 'groups'),
        groupExists: () => true,
      });
      await installer.remove('greet', { group: 'team' });
      expect(readdirSync(join(l.groupDir, '.claude', 'skills'))).toEqual([]);
      expect(readFileSync(join(victim, 'keep.txt'), 'utf8')).toBe('host data');
    });
  },
);
