import type { Group } from '../groups/group-schema.js';

/** Whether a group's sender allowlist lets `sender` wake it. */
export function senderAllowed(group: Pick<Group, 'senders'>, sender: string): boolean {
  const policy = group.senders;
  return !policy || policy.allow === 'all' || policy.allow.includes(sender);
}
