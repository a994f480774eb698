import type { Group } from '../store/group-schema.js';

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * The pattern a message must start with (after trimming) to wake a group. The trigger is
 * literal text; it must end at a word boundary when it ends in a word character, so `@Andy`
 * matches "@andy hi" and "@Andy, hi" but not "@AndyX".
 */
export function triggerPattern(trigger: string): RegExp {
  const t = trigger.trim();
  const boundary = /\w$/.test(t) ? '(?!\\w)' : '';
  return new RegExp(`^${escapeRegex(t)}${boundary}`, 'i');
}

/** The trigger text in effect for a group: its own, else `@<assistant name>`. */
export function effectiveTrigger(group: Pick<Group, 'trigger'>, assistantName: string): string {
  return group.trigger ?? `@${assistantName}`;
}

/** Whether `text` wakes `group`: always for main and trigger-free groups. */
export function isTriggered(
  text: string,
  group: Pick<Group, 'trigger' | 'isMain' | 'requiresTrigger'>,
  assistantName: string,
): boolean {
  if (group.isMain || !group.requiresTrigger) return true;
  return triggerPattern(effectiveTrigger(group, assistantName)).test(text.trim());
}
