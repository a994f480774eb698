import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSkillMd } from '../../src/skills/skill-files.js';
import type { Daemon } from '../../src/daemon.js';
import { startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { cliEnv, root, runCli } from '../support/cli-helpers.js';

// The host skills in .claude/skills/ tell Claude Code (in this repository) how to drive the
// clawpod CLI. So they cannot rot, every `clawpod …` line in a ```sh block is run, in order,
// against a test daemon and must exit 0; every `clawpod …` line in a ```text block (interactive,
// or needing real tokens) must at least name a command that exists (`--help` exits 0).

const skillsDir = join(root, '.claude', 'skills');
const skills = readdirSync(skillsDir).filter((n) => !n.startsWith('.'));

/** The fenced blocks of a markdown text with their info string. */
function blocks(md: string): Array<{ lang: string; lines: string[] }> {
  const out: Array<{ lang: string; lines: string[] }> = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(md); m; m = re.exec(md)) {
    // Continuation lines (`\` at the end) join the next line.
    const joined = m[2]!.replace(/\\\n\s*/g, '');
    out.push({ lang: m[1]!, lines: joined.split('\n').map((l) => l.trim()) });
  }
  return out;
}

/** Splits a command line into words as a shell would (quotes; a trailing # comment dropped). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(#.*$)|((?:[^\s"'#]|"[^"]*"|'[^']*')+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m[3] !== undefined) break;
    const w = m[1] ?? m[2] ?? m[4]!;
    // key='{"json"}' style: strip the quotes inside a word, as the shell does.
    out.push(m[4] !== undefined ? w.replace(/'([^']*)'|"([^"]*)"/g, '$1$2') : w);
  }
  return out;
}

const commands = (md: string, lang: string) =>
  blocks(md)
    .filter((b) => b.lang === lang)
    .flatMap((b) => b.lines)
    .filter((l) => l.startsWith('clawpod '))
    .map((l) => words(l).slice(1));

describe('host skills (.claude/skills/*/SKILL.md)', () => {
  it('are the five the repository promises, each in the Agent Skills format', () => {
    expect(skills.sort()).toEqual(['add-channel', 'add-task', 'customize', 'debug', 'setup']);
    for (const name of skills) {
      const meta = parseSkillMd(readFileSync(join(skillsDir, name, 'SKILL.md'), 'utf8'), name);
      expect(meta.name).toBe(name);
      expect(meta.description.length).toBeGreaterThan(40);
    }
  });

  describe.each(skills)('%s: its commands work', (name) => {
    let home: string;
    let d: Daemon;
    let env: NodeJS.ProcessEnv;
    const md = readFileSync(join(skillsDir, name, 'SKILL.md'), 'utf8');

    beforeAll(async () => {
      home = tempHome();
      writeFileSync(join(home, '.env'), 'ANTHROPIC_API_KEY=sk-ant-test\n', { mode: 0o600 });
      d = await startDaemon(home, [scriptedLauncher(() => reply('pong'))]);
      env = cliEnv(home, { CLAWPOD_URL: `http://127.0.0.1:${d.port}` });
    });
    afterAll(async () => {
      await d?.stop();
    });

    it('every ```sh command exits 0 against a test daemon, in order', async () => {
      const runnable = commands(md, 'sh');
      expect(runnable.length).toBeGreaterThan(0);
      for (const args of runnable) {
        const r = await runCli(args, env);
        expect(r.code, `clawpod ${args.join(' ')}\n${r.stderr}${r.stdout}`).toBe(0);
      }
      // One CLI process per command (dozens in the longest skill): a limit for a loaded machine.
    }, 120_000);

    it('every ```text command names an existing command', async () => {
      for (const args of commands(md, 'text')) {
        const cmd = args.slice(0, 2).filter((w) => /^[a-z][a-z-]*$/.test(w));
        const r = await runCli([...cmd, '--help'], env);
        expect(r.code, `clawpod ${cmd.join(' ')} --help\n${r.stderr}`).toBe(0);
      }
    });
  });
});
