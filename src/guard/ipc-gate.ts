/**
 * clawpod's own tools through the guard. Wraps the IPC request handler and the task-file sink:
 * `send_message` to a chat other than the conversation's, `schedule_task` (tool or task file)
 * firing more than `guard.maxDailyFires` times a day, `register_group`, and `approve_tool`
 * (phase 2: the Claude permission callback) are decided by the guard first.
 *
 * A request that must wait is answered at once with `{pending: {approval, waitMs}}` in
 * `responses/<id>.json`, and for good in `responses/<id>.final.json` when decided: the agent's
 * IPC client waits for that as long as the approval can take (its usual timeout is 60 s, an
 * approval's 10 min). The queue is not held meanwhile: other requests go on.
 */
import type { Logger } from 'pino';
import type { IpcActor, IpcResult, RequestHandler } from '../ipc/request-handler.js';
import type { TaskFileSink } from '../ipc/queue-file.js';
import {
  approveToolArgs,
  registerGroupArgs,
  sendMessageArgs,
  type RequestFile,
} from '../protocol/ipc.js';
import type { Store } from '../store/store.js';
import { occurrencesBetween } from '../schedule/schedule.js';
import { TaskService } from '../tasks/task-service.js';
import { parseTaskFile } from '../tasks/task-file.js';
import type { Clock } from '../clock.js';
import type { GuardAction, ScheduleTaskAction } from './actions.js';
import type { Expected } from './budgets.js';
import type { Guard, GuardContext, GuardOutcome } from './guard.js';

export interface IpcGateDeps {
  guard: Pick<Guard, 'request'>;
  inner: Pick<RequestHandler, 'handle'>;
  files?: TaskFileSink;
  store: Store;
  clock: Clock;
  timezone: string;
  maxDailyFires: number;
  expected(group: string): Expected;
  /** Writes the final answer (`responses/<id>.final.json`). */
  answerLater(group: string, id: string, result: IpcResult): Promise<void>;
  log: Logger;
}

const fail = (code: string, message: string): IpcResult => ({
  ok: false,
  error: { code, message },
});

export class IpcGate {
  constructor(private readonly deps: IpcGateDeps) {}

  async handle(actor: IpcActor, req: RequestFile): Promise<IpcResult> {
    if (req.op === 'approve_tool') return this.approveTool(actor, req);
    const action = this.actionOf(actor, req);
    if (!action) return this.deps.inner.handle(actor, req);
    return this.gate(actor, req.id, action, () => this.deps.inner.handle(actor, req));
  }

  /** A task file in `tasks/`: the same daily-fires rule as the `schedule_task` tool. */
  async fromFile(actor: IpcActor, raw: unknown, fileName: string): Promise<IpcResult> {
    const files = this.deps.files;
    if (!files) return fail('unavailable', 'the scheduler is not available in this build');
    const parsed = parseTaskFile(raw, {
      group: actor.group,
      defaultTimezone: this.deps.timezone,
      fileName,
    });
    const action = parsed.ok
      ? this.scheduleAction(actor.group, {
          schedule: parsed.input.schedule,
          type: parsed.input.type,
          timezone: parsed.input.timezone,
          prompt: parsed.input.prompt,
        })
      : undefined;
    if (!action) return files.fromFile(actor, raw, fileName);
    const id = fileName.replace(/\.json$/, '');
    return this.gate(actor, id, action, () => files.fromFile(actor, raw, fileName));
  }

  /** Asks the guard; runs `perform` when allowed (now, or once the owner says yes). */
  private async gate(
    actor: IpcActor,
    id: string,
    action: GuardAction,
    perform: () => IpcResult | Promise<IpcResult>,
    refuse: (o: Refused) => IpcResult = denied,
  ): Promise<IpcResult> {
    const ctx: GuardContext = {
      group: actor.group,
      runId: actor.conversation?.runId ?? null,
      chat: actor.conversation?.chat ?? null,
    };
    const r = this.deps.guard.request(action, ctx);
    if (r.verdict === 'allow') return perform();
    if (r.verdict === 'deny') return refuse({ allowed: false, via: 'rule', message: r.message });
    void r.decided
      .then(async (o) => (o.allowed ? await perform() : refuse(o)))
      .catch((err: unknown) => {
        this.deps.log.error({ err, group: actor.group, id }, 'approved IPC request failed');
        return fail('internal', 'the host could not complete the request; see the daemon log');
      })
      .then((result) => this.deps.answerLater(actor.group, id, result));
    return pendingResult(r.approval.id, r.approval.expiresAt - this.deps.clock.now());
  }

  /** phase 2's permission callback: `{behavior: allow}` or `{behavior: deny, message}`. */
  private async approveTool(actor: IpcActor, req: RequestFile): Promise<IpcResult> {
    const args = approveToolArgs.safeParse(req.args);
    if (!args.success) return fail('invalid_args', args.error.issues[0]!.message);
    return this.gate(
      actor,
      req.id,
      { kind: 'tool', tool: args.data.tool, input: args.data.input },
      () => ({ ok: true, result: { behavior: 'allow' } }),
      (o) =>
        o.via === 'shutdown'
          ? denied(o)
          : { ok: true, result: { behavior: 'deny', message: o.message } },
    );
  }

  /** The guarded action a request would take, or undefined when it is not privileged. */
  private actionOf(actor: IpcActor, req: RequestFile): GuardAction | undefined {
    switch (req.op) {
      case 'send_message': {
        const a = sendMessageArgs.safeParse(req.args);
        if (!a.success) return undefined; // the handler reports it
        const chat = a.data.chat ?? actor.conversation?.chat;
        if (!chat || chat === actor.conversation?.chat) return undefined;
        const group = this.deps.store.groups.get(actor.group);
        if (!actor.isMain && !group?.chats.includes(chat)) return undefined; // forbidden anyway
        return {
          kind: 'send_message',
          chat,
          text: a.data.text,
          ...(a.data.file ? { file: a.data.file } : {}),
        };
      }
      case 'schedule_task': {
        const args = req.args;
        if (typeof args.prompt !== 'string') return undefined;
        return this.scheduleAction(
          typeof args.group === 'string' && actor.isMain ? args.group : actor.group,
          {
            schedule: args.schedule as string | number,
            type: args.type as ScheduleTaskType,
            timezone: typeof args.timezone === 'string' ? args.timezone : undefined,
            prompt: args.prompt,
          },
        );
      }
      case 'register_group': {
        const a = registerGroupArgs.safeParse(req.args);
        if (!a.success || !actor.isMain) return undefined;
        return { kind: 'register_group', name: a.data.name, chat: a.data.chat };
      }
      default:
        return undefined;
    }
  }

  /** A schedule firing more than the daily limit in the next 24 hours; else undefined. */
  private scheduleAction(
    group: string,
    input: {
      schedule: string | number;
      type?: ScheduleTaskType;
      timezone?: string;
      prompt: string;
    },
  ): ScheduleTaskAction | undefined {
    const now = this.deps.clock.now();
    let preview;
    try {
      preview = TaskService.preview(
        {
          schedule: input.schedule,
          type: input.type,
          timezone: input.timezone ?? this.deps.timezone,
          n: 3,
        },
        now,
      );
    } catch {
      return undefined; // an invalid schedule: the task service says what is wrong
    }
    const firesPerDay = occurrencesBetween(
      preview.schedule,
      new Date(now),
      new Date(now + 86_400_000),
      undefined,
      1,
    ).total;
    if (firesPerDay <= this.deps.maxDailyFires) return undefined;
    const exp = this.deps.expected(group);
    return {
      kind: 'schedule_task',
      group,
      schedule: String(preview.schedule.value),
      description: preview.schedule.description,
      timezone: preview.schedule.timezone,
      prompt: input.prompt,
      firesPerDay,
      next: preview.times.slice(0, 3).map((t) => t.local),
      expectedUsd:
        exp.usd === null ? null : { perRun: exp.usd, perMonth: exp.usd * firesPerDay * 30 },
    };
  }
}

type ScheduleTaskType = 'cron' | 'interval' | 'once' | undefined;

type Refused = Extract<GuardOutcome, { allowed: false }>;

const denied = (o: Refused): IpcResult =>
  fail(o.via === 'shutdown' ? 'interrupted' : 'denied', o.message);

/** The first answer to a request that waits for the owner. */
export function pendingResult(approval: number, waitMs: number): IpcResult {
  return {
    ok: true,
    result: {
      pending: {
        approval,
        waitMs: Math.max(0, waitMs),
        message: `waiting for the owner's approval #${approval}`,
      },
    },
  };
}
