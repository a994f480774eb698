import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SkillError } from './skill-files.js';

const run = promisify(execFile);

/** A skill source checked out (or a plain folder) for reading. */
export interface FetchedSource {
  /** The folder holding SKILL.md. */
  skillDir: string;
  /** The commit it was read at; null for a plain folder (its content hash pins it then). */
  commit: string | null;
  /** Runs git in the checkout (null for a plain folder). */
  git: ((args: string[]) => Promise<string>) | null;
  cleanup(): void;
}

const looksLikeGitUrl = (s: string) =>
  /^(https?|git|ssh|file):\/\//.test(s) || /^[\w.-]+@[\w.-]+:/.test(s);

/** Whether `source` is a git repository (a URL, or a local folder with `.git`). */
export function isGitSource(source: string): boolean {
  if (looksLikeGitUrl(source)) return true;
  const p = resolve(source);
  return existsSync(join(p, '.git')) || existsSync(join(p, 'HEAD'));
}

async function git(cwd: string | null, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', cwd ? ['-C', cwd, ...args] : args, {
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; code?: string; message: string };
    if (e.code === 'ENOENT') throw new SkillError('git is not installed (needed for a git source)');
    throw new SkillError(`git ${args[0]} failed: ${(e.stderr || e.message).trim()}`);
  }
}

/**
 * Gets a skill source: a git repository (URL or local path; cloned into a temp folder and
 * checked out at `ref`, default its HEAD, so the commit is known) or a plain local folder.
 * `path` is the skill's folder inside it (default: the root).
 */
export async function fetchSource(
  source: string,
  opts: { ref?: string; path?: string } = {},
): Promise<FetchedSource> {
  const sub = opts.path?.replace(/^\/+|\/+$/g, '') ?? '';
  if (sub.split('/').includes('..')) throw new SkillError('--path must stay inside the source');
  if (!isGitSource(source)) {
    const dir = resolve(source, sub);
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new SkillError(`${source} is neither a git repository nor a folder`);
    if (opts.ref) throw new SkillError('--ref needs a git source');
    return { skillDir: dir, commit: null, git: null, cleanup: () => undefined };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'clawpod-skill-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  try {
    const from = looksLikeGitUrl(source) ? source : resolve(source);
    await git(null, ['clone', '--quiet', '--no-checkout', from, tmp]);
    await git(tmp, ['checkout', '--quiet', '--detach', opts.ref ?? 'HEAD']);
    const commit = (await git(tmp, ['rev-parse', 'HEAD'])).trim();
    const skillDir = join(tmp, sub);
    if (!existsSync(join(skillDir, 'SKILL.md')))
      throw new SkillError(
        `no SKILL.md in ${sub || 'the root'} of ${source} at ${commit.slice(0, 12)} (use --path <folder>)`,
      );
    return { skillDir, commit, git: (args) => git(tmp, args), cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
