import type { Group, SenderPolicy } from '../store/group-schema.js';

/** What a sender is to a group, as the prompt shows it (from stable ids, never display names). */
export type SenderRole = 'owner' | 'member' | 'external';

/** The sender id of the owner on the API, the web chat and the CLI (the token holder). */
export const OWNER_SENDER = 'owner';

/**
 * The allowlist in effect: the group's own, else — for `main`, which can message any chat and
 * register groups — the owner only (others are kept as context but never wake it); for any
 * other group, everyone in its chats.
 */
export function effectiveSenders(
  group: Pick<Group, 'senders' | 'isMain'>,
  ownerIds: readonly string[],
): SenderPolicy | null {
  if (group.senders) return group.senders;
  if (group.isMain) return { allow: [OWNER_SENDER, ...ownerIds], others: 'store' };
  return null;
}

/** Whether the allowlist in effect lets `sender` wake the group. */
export function senderAllowed(
  group: Pick<Group, 'senders' | 'isMain'>,
  sender: string,
  ownerIds: readonly string[],
): boolean {
  const policy = effectiveSenders(group, ownerIds);
  return !policy || policy.allow === 'all' || policy.allow.includes(sender);
}

/**
 * A sender's role: `owner` (the API/web/CLI owner, or an id in `owner.ids`); `external` for
 * content that comes from outside the conversation's members — webhook payloads, and mail from
 * an address the group does not list by name; `member` for everyone else.
 */
export function senderRole(
  sender: string,
  group: Pick<Group, 'senders'>,
  ownerIds: readonly string[],
): SenderRole {
  if (sender === OWNER_SENDER || ownerIds.includes(sender)) return 'owner';
  const listed = Array.isArray(group.senders?.allow) && group.senders.allow.includes(sender);
  if (sender.startsWith('webhook:') || (sender.startsWith('mail:') && !listed)) return 'external';
  return 'member';
}
