import { posix } from 'node:path';
import { DEFAULT_SYSTEM_PATHS } from '../sandbox/bubblewrap-args.js';

/**
 * Paths every sandbox has besides the system paths: its workspace and the kernel's views. Its
 * /tmp is a fresh one, so a host file under /tmp is not there either.
 */
const SANDBOX_ROOTS = ['/workspace', '/dev', '/proc', ...DEFAULT_SYSTEM_PATHS];

/** Where the group folder is inside the sandbox (the command's working directory). */
export const SANDBOX_GROUP_DIR = '/workspace/group';

/** An absolute path in a `command` that the sandbox will not have. */
export interface HostPathUse {
  /** As written in the command. */
  path: string;
  /** Whether it is a regular file on this host (so it can be copied into the group folder). */
  hostFile: boolean;
  /** The program itself (the command's first word), not an argument. */
  program: boolean;
}

const inSandboxView = (p: string) => {
  const n = posix.normalize(p);
  return SANDBOX_ROOTS.some((root) => n === root || n.startsWith(`${root}/`));
};

/** The command's words, quotes removed (a plain split: enough to find path arguments). */
function words(command: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(command); m; m = re.exec(command)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/**
 * Absolute paths in a command-harness `command` that do not exist in the sandbox, where the
 * command runs (cwd /workspace/group): the program when it lies outside /workspace and the
 * system paths, and any argument that names an existing host file there. `stat` tells what the
 * host has at a path (injected for tests).
 */
export function hostPathsIn(
  command: string,
  stat: (path: string) => 'file' | 'other' | 'missing',
): HostPathUse[] {
  const out: HostPathUse[] = [];
  words(command).forEach((w, i) => {
    if (!w.startsWith('/') || inSandboxView(w)) return;
    const kind = stat(w);
    // An argument that is no host file may be anything (a pattern, a sandbox-made path).
    if (i > 0 && kind !== 'file') return;
    out.push({ path: w, hostFile: kind === 'file', program: i === 0 });
  });
  return out;
}

/** The in-sandbox name a copied host file gets: `/workspace/group/<basename>`. */
export const sandboxCopyPath = (hostPath: string): string =>
  `${SANDBOX_GROUP_DIR}/${posix.basename(hostPath)}`;

/** The command with each copied host path replaced by its in-sandbox name. */
export function rewriteCommand(command: string, copied: readonly string[]): string {
  let out = command;
  for (const p of copied) out = out.split(p).join(sandboxCopyPath(p));
  return out;
}

/** Why a command cannot run as written, with what to do (the CLI's refusal message). */
export function hostPathMessage(group: string, uses: readonly HostPathUse[]): string {
  const listed = uses.map((u) => u.path).join(', ');
  const copyable = uses.every((u) => u.hostFile);
  return (
    `the command names ${listed}, which does not exist inside the sandbox: the command harness runs ` +
    `there, in ${SANDBOX_GROUP_DIR} (the group folder of "${group}"), and sees only /workspace and the system paths. ` +
    (copyable
      ? `Add --copy to copy ${uses.length > 1 ? 'these files' : 'the file'} into the group folder and run ${uses.map((u) => sandboxCopyPath(u.path)).join(', ')} instead.`
      : `Put the program into the group folder and name it ${SANDBOX_GROUP_DIR}/<file>.`)
  );
}
