/** The checks every task surface shares, each failing with a TaskError that says what to do. */
import type { Group } from '../groups/group-schema.js';
import { nextRun, ScheduleError, type Schedule } from './schedule.js';
import { TaskError } from './task-errors.js';
import { isoInZone } from './task-view.js';

/** Who asks; see TaskService. */
export interface Actor {
  group: string;
  isMain: boolean;
  /** How the request came in (api, cli, ipc, mcp…), recorded in created_by. */
  via?: string;
}

/** Runs `fn`, turning a ScheduleError (bad schedule or missed policy) into TaskError('invalid'). */
export function scheduleGuard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ScheduleError) throw new TaskError('invalid', err.message, err.code);
    throw err;
  }
}

/** A non-main group acts only on its own tasks; main on every group's. */
export function mayManage(actor: Actor, group: string): boolean {
  return actor.isMain || group === actor.group;
}

/** Refuses a group named by the actor itself (nothing is revealed: the actor said the name). */
export function authorise(actor: Actor, group: string): void {
  if (!mayManage(actor, group)) {
    throw new TaskError(
      'forbidden',
      `group "${actor.group}" may only manage its own tasks, not those of group "${group}" (only main may)`,
    );
  }
}

/**
 * The answer about a task id that does not exist, and equally about one the actor may not see:
 * a group must not learn another group's task ids or owners by asking.
 */
export function noSuchTask(id: string): TaskError {
  return new TaskError('not_found', `no task "${id}" (clawpod tasks list)`);
}

/** The first due time after `now`; refuses a once time that is not in the future. */
export function firstRunAt(schedule: Schedule, now: number): number {
  const first = scheduleGuard(() => nextRun(schedule, new Date(now)));
  if (first === null) {
    throw new TaskError(
      'invalid',
      schedule.type === 'once'
        ? `${isoInZone(Date.parse(schedule.value), schedule.timezone)} is in the past: a once task needs a future time`
        : 'this schedule has no future fire time',
      'in_the_past',
    );
  }
  return first.getTime();
}

/** Output goes to a chat bound to the task's group; without one given, the group needs a chat. */
export function checkChat(group: Group, chat: string | null): void {
  if (chat === null) {
    if (group.chats.length === 0) {
      throw new TaskError(
        'invalid',
        `group "${group.folder}" has no chat for the task's output: bind one (clawpod groups bind ${group.folder} <chat>) or give a chat`,
      );
    }
    return;
  }
  if (!group.chats.includes(chat)) {
    throw new TaskError(
      'invalid',
      `chat ${chat} is not bound to group "${group.folder}" (its chats: ${group.chats.join(', ') || 'none'})`,
    );
  }
}

/**
 * Pre-check scripts run in the sandbox; until a pre-check hook exists (the sandbox layer
 * provides it) a task with one is refused at creation rather than failing at run time.
 */
export function checkPreCheck(script: string | null | undefined, available: boolean): void {
  if (script !== undefined && script !== null && !available) {
    throw new TaskError(
      'invalid',
      'pre-check scripts run inside the sandbox, and this clawpod build cannot run them yet: create the task without a pre-check',
      'pre_check_unavailable',
    );
  }
}
