import { TaskError } from '../schedule/errors.js';
import { parseTaskFile } from '../tasks/task-file.js';
import type { TaskService } from '../tasks/task-service.js';
import type { IpcActor, IpcResult, TaskOps } from './request-handler.js';
import type { TaskFileSink } from './queue-file.js';

/** MCP/IPC argument names (snake_case, as the agent writes them) → the service's fields. */
const FIELD: Record<string, string> = {
  context_mode: 'contextMode',
  missed_policy: 'missedPolicy',
  missed_cap: 'missedCap',
  pre_check: 'preCheck',
};
const camel = (args: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(args).map(([k, v]) => [FIELD[k] ?? k, v]));

function idOf(args: Record<string, unknown>): string {
  if (typeof args.id !== 'string' || !args.id)
    throw new TaskError('invalid', 'id: the task id is required');
  return args.id;
}

const asResult = (fn: () => unknown): IpcResult => {
  try {
    return { ok: true, result: fn() };
  } catch (err) {
    if (err instanceof TaskError)
      return { ok: false, error: { code: err.detail ?? err.code, message: err.message } };
    throw err;
  }
};

/**
 * The scheduler behind the IPC request ops and the `tasks/` drop folder, with the requesting
 * group's authority (the service refuses other groups' tasks unless the actor is main).
 */
export function taskIpc(tasks: TaskService, defaultTimezone: string): TaskOps & TaskFileSink {
  return {
    handle(op: string, args: Record<string, unknown>, actor: IpcActor): IpcResult {
      const who = { group: actor.group, isMain: actor.isMain, via: 'ipc' as const };
      return asResult(() => {
        switch (op) {
          case 'schedule_task':
            // A task asked for in a conversation reports back to that conversation.
            return tasks.create(who, {
              ...camel(args),
              ...(args.chat === undefined && actor.conversation
                ? { chat: actor.conversation.chat }
                : {}),
            });
          case 'list_tasks':
            return tasks.list(who);
          case 'pause_task':
            return tasks.pause(who, idOf(args));
          case 'resume_task':
            return tasks.resume(who, idOf(args));
          case 'cancel_task':
            return tasks.cancel(who, idOf(args));
          case 'update_task': {
            const { id: _id, ...patch } = args;
            return tasks.update(who, idOf(args), camel(patch));
          }
          default:
            throw new TaskError('invalid', `unknown task operation "${op}"`);
        }
      });
    },
    fromFile(actor: IpcActor, raw: unknown, fileName: string): IpcResult {
      const parsed = parseTaskFile(raw, { group: actor.group, defaultTimezone, fileName });
      if (!parsed.ok) return { ok: false, error: { code: parsed.code, message: parsed.message } };
      return asResult(() =>
        tasks.create({ group: actor.group, isMain: actor.isMain, via: 'ipc' }, parsed.input),
      );
    },
  };
}
