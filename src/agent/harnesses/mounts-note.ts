import type { StartRequest } from '../../protocol/runner-protocol.js';

/**
 * The sentence telling an agent which host folders are mounted for its group and whether it
 * may write there (StartRequest.mounts), or null when there are none. Claude's system prompt
 * and Codex's developer instructions both carry it.
 */
export function mountsNote(start: Pick<StartRequest, 'mounts'>): string | null {
  const mounts = start.mounts ?? [];
  if (mounts.length === 0) return null;
  const list = mounts
    .map((m) => `${m.path} (${m.readOnly ? 'read-only' : 'read-write'})`)
    .join(', ');
  const rw = mounts.some((m) => !m.readOnly);
  return `Host folders mounted for this group: ${list}.${rw ? ' Changes you make in a read-write one change the folder on the host itself: work there in place.' : ''}`;
}
