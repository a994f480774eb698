import { existsSync, readFileSync, renameSync, watch, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Daemon } from '../../src/daemon.js';
import type { ResponseFile } from '../../src/protocol/ipc.js';
import type { ApprovalRecord } from '../../src/store/approvals.js';

let n = 0;

/** Resolves with a file's text once it exists (fs.watch on its folder; no polling). */
export function fileAppears(path: string): Promise<string> {
  return new Promise((resolve) => {
    const dir = dirname(path);
    const check = () => {
      if (!existsSync(path)) return false;
      watcher.close();
      resolve(readFileSync(path, 'utf8'));
      return true;
    };
    const watcher = watch(dir, () => void check());
    check();
  });
}

/**
 * What the MCP server does for a tool call, from a scripted agent: the request (temp name,
 * rename) with the session token, the first answer, and — when that says `pending` — the
 * final answer's promise (`responses/<id>.final.json`).
 */
export async function toolCall(
  d: Daemon,
  home: string,
  group: string,
  token: string | undefined,
  op: string,
  args: Record<string, unknown>,
): Promise<{ first: ResponseFile; final?: Promise<ResponseFile> }> {
  const id = `g${++n}-${Date.now()}`;
  const dir = join(home, 'ipc', group);
  const tmp = join(dir, 'requests', `.${id}.tmp`);
  writeFileSync(tmp, JSON.stringify({ id, op, args, ...(token ? { session: token } : {}) }));
  renameSync(tmp, join(dir, 'requests', `${id}.json`));
  await d.ipc.scan(group, 'requests');
  const first = JSON.parse(
    readFileSync(join(dir, 'responses', `${id}.json`), 'utf8'),
  ) as ResponseFile;
  const pending = first.ok && (first.result as { pending?: unknown } | null)?.pending;
  if (!pending) return { first };
  const final = fileAppears(join(dir, 'responses', `${id}.final.json`)).then(
    (t) => JSON.parse(t) as ResponseFile,
  );
  return { first, final };
}

/** The next approval asked (status pending) on the daemon's bus. */
export function nextApproval(d: Daemon, pred: (a: ApprovalRecord) => boolean = () => true) {
  return new Promise<ApprovalRecord>((resolve) => {
    const on = (a: ApprovalRecord) => {
      if (a.status !== 'pending' || !pred(a)) return;
      d.bus.off('approval', on);
      resolve(a);
    };
    d.bus.on('approval', on);
  });
}

/** Resolves when approval `id` is decided. */
export function approvalDecided(d: Daemon, id: number) {
  return new Promise<ApprovalRecord>((resolve) => {
    const on = (a: ApprovalRecord) => {
      if (a.id !== id || a.status === 'pending') return;
      d.bus.off('approval', on);
      resolve(a);
    };
    d.bus.on('approval', on);
  });
}
