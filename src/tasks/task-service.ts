import { randomBytes } from 'node:crypto';
import type { Group } from '../store/group-schema.js';
import type { Store } from '../store/store.js';
import type { TaskRunRecord, TaskRunStore } from '../store/task-runs.js';
import type { TaskPatch, TaskRecord, TaskStatus, TaskStore } from '../store/tasks.js';
import { describeSchedule } from '../schedule/describe.js';
import { TaskError } from '../schedule/errors.js';
import { parseMissedPolicy } from '../schedule/missed-policy.js';
import {
  nextRun,
  nextRuns,
  parseSchedule,
  scheduleOf,
  type Schedule,
} from '../schedule/schedule.js';
import { isoInZone } from '../schedule/time-zone.js';
import {
  authorise,
  checkChat,
  checkPreCheck,
  firstIssue,
  firstRunAt,
  mayManage,
  noSuchTask,
  scheduleGuard,
  taskInputSchema,
  taskPatchSchema,
  type Actor,
  type TaskInput,
} from './task-rules.js';
import { expectedTaskCost, type ExpectedCost } from './task-cost.js';
import { toTaskView, type TaskView } from './task-view.js';

/**
 * Who asks. The caller vouches for it: the HTTP API and the CLI act as the owner
 * (`{group: 'main', isMain: true}`); the IPC layer passes the group its directory belongs to.
 * A non-main actor manages only its own group's tasks; main manages every group's.
 */
export type { Actor } from './task-rules.js';

/** The owner acting through the HTTP API or the CLI. */
export const OWNER: Actor = { group: 'main', isMain: true };

/** The running scheduler, as the service needs it. Absent when the CLI works on the DB alone. */
export interface TaskEngine {
  /** A task changed: re-read the earliest due time and re-arm. */
  changed(): void;
  /** Claims an extra occurrence at "now" and queues it; TaskError('conflict') if it runs elsewhere. */
  runNow(taskId: string): { taskRunId: number; scheduledFor: number };
}

export interface TaskServiceOptions {
  store: Store;
  /** Zone for tasks created without one (the configured zone). */
  timezone: string;
  now?: () => number;
  engine?: TaskEngine;
  /**
   * True when a pre-check hook exists (the sandbox layer provides it). Until then a task with
   * a pre-check script is refused at creation with a clear error.
   */
  preCheckAvailable?: boolean;
  newId?: () => string;
}

/** The answer to create: the canonical schedule and the next 3 fire times in the task's zone. */
export interface CreatedTask {
  id: string;
  /** False when a task with this id already existed (idempotent create); it is returned as is. */
  created: boolean;
  schedule: Schedule & { description: string };
  /** ISO 8601 with the zone's offset. */
  nextRuns: string[];
  task: TaskView;
  /** Per run and per month, from the last runs; "unknown" when there are none. */
  expectedCost: ExpectedCost;
}

/** Fire times of a schedule, for `clawpod tasks next` and confirmations. Creates nothing. */
export interface SchedulePreview {
  schedule: Schedule & { description: string };
  times: Array<{ at: number; local: string }>;
}

const newTaskId = (): string => `t${randomBytes(5).toString('hex')}`;

/**
 * Creating, listing, changing and running scheduled tasks: one implementation behind the
 * HTTP API, the CLI, IPC task files and the agent's tools, with one authorisation rule.
 * Inputs are validated here (zod, then parseSchedule in the task's zone). Every change tells
 * the engine, which re-arms its timer.
 */
export class TaskService {
  private readonly tasks: TaskStore;
  private readonly runs: TaskRunStore;
  private readonly now: () => number;
  private readonly newId: () => string;

  constructor(private readonly opts: TaskServiceOptions) {
    this.tasks = opts.store.tasks;
    this.runs = opts.store.taskRuns;
    this.now = opts.now ?? Date.now;
    this.newId = opts.newId ?? newTaskId;
  }

  /** Fire times of `schedule` after now (pure; no task is created). */
  static preview(
    input: { schedule: string | number; type?: Schedule['type']; timezone: string; n?: number },
    now: number,
  ): SchedulePreview {
    const schedule = scheduleGuard(() =>
      parseSchedule({ type: input.type, value: input.schedule, timezone: input.timezone }),
    );
    const times = nextRuns(schedule, new Date(now), input.n ?? 5).map((d) => ({
      at: d.getTime(),
      local: isoInZone(d.getTime(), schedule.timezone),
    }));
    return { schedule: { ...schedule, description: describeSchedule(schedule) }, times };
  }

  create(actor: Actor, body: unknown): CreatedTask {
    const parsed = taskInputSchema.safeParse(body);
    if (!parsed.success) throw new TaskError('invalid', firstIssue(parsed.error));
    const input: TaskInput = parsed.data;
    const groupName = input.group ?? actor.group;
    authorise(actor, groupName);
    const group = this.group(groupName);
    if (input.id) {
      const existing = this.tasks.get(input.id);
      if (existing) {
        if (existing.group !== groupName) {
          // The id is taken; only an actor who may see that task learns whose it is.
          throw new TaskError(
            'conflict',
            mayManage(actor, existing.group)
              ? `task id "${input.id}" is already used by group "${existing.group}"`
              : `task id "${input.id}" cannot be used: choose another id, or leave id out`,
          );
        }
        return this.created(existing, false);
      }
    }
    const chatId = input.chat ?? null;
    checkChat(group, chatId);
    checkPreCheck(input.preCheck, this.opts.preCheckAvailable ?? false);
    const timezone = input.timezone ?? this.opts.timezone;
    const schedule = scheduleGuard(() =>
      parseSchedule({ type: input.type, value: input.schedule, timezone }),
    );
    scheduleGuard(() => parseMissedPolicy(input.missedPolicy, input.missedCap));
    const now = this.now();
    const first = firstRunAt(schedule, now);
    const id = input.id ?? this.newId();
    this.tasks.insert({
      id,
      group: groupName,
      chatId,
      prompt: input.prompt,
      type: schedule.type,
      value: schedule.value,
      timezone: schedule.timezone,
      contextMode: input.contextMode ?? 'isolated',
      missedPolicy: input.missedPolicy ?? 'latest',
      missedCap: input.missedCap ?? null,
      status: 'active',
      nextRunAt: first,
      anchorAt: schedule.type === 'interval' ? first : null,
      preCheck: input.preCheck ?? null,
      createdBy: actor.via ? `${actor.group} via ${actor.via}` : actor.group,
      createdAt: now,
      updatedAt: now,
    });
    this.opts.engine?.changed();
    return this.created(this.tasks.get(id)!, true);
  }

  /** Tasks the actor may see: a non-main group only its own. */
  list(actor: Actor, filter: { group?: string; status?: TaskStatus } = {}): TaskView[] {
    if (filter.group) authorise(actor, filter.group);
    const group = actor.isMain ? filter.group : actor.group;
    const now = this.now();
    return this.tasks.list({ group, status: filter.status }).map((t) => toTaskView(t, now));
  }

  get(actor: Actor, id: string): TaskView {
    return toTaskView(this.load(actor, id), this.now());
  }

  update(actor: Actor, id: string, body: unknown): TaskView {
    const task = this.load(actor, id);
    const parsed = taskPatchSchema.safeParse(body);
    if (!parsed.success) throw new TaskError('invalid', firstIssue(parsed.error));
    const p = parsed.data;
    if (task.status === 'cancelled' || task.status === 'completed') {
      throw new TaskError('conflict', `task ${id} is ${task.status}; create a new task instead`);
    }
    const patch: TaskPatch = {};
    if (p.prompt !== undefined) patch.prompt = p.prompt;
    if (p.contextMode !== undefined) patch.contextMode = p.contextMode;
    if (p.chat !== undefined) {
      checkChat(this.group(task.group), p.chat);
      patch.chatId = p.chat;
    }
    if (p.preCheck !== undefined) {
      checkPreCheck(p.preCheck, this.opts.preCheckAvailable ?? false);
      patch.preCheck = p.preCheck;
    }
    if (p.missedPolicy !== undefined || p.missedCap !== undefined) {
      const kind = p.missedPolicy ?? task.missedPolicy;
      const cap =
        p.missedCap === undefined ? (kind === 'all' ? task.missedCap : null) : p.missedCap;
      scheduleGuard(() => parseMissedPolicy(kind, cap));
      patch.missedPolicy = kind;
      patch.missedCap = cap;
    }
    if (p.schedule !== undefined || p.type !== undefined || p.timezone !== undefined) {
      const timezone = p.timezone ?? task.timezone;
      const schedule = scheduleGuard(() =>
        parseSchedule({
          type: p.type ?? (p.schedule === undefined ? task.type : undefined),
          value: p.schedule ?? task.value,
          timezone,
        }),
      );
      const first = firstRunAt(schedule, this.now());
      Object.assign(patch, {
        type: schedule.type,
        value: schedule.value,
        timezone: schedule.timezone,
        nextRunAt: first,
        anchorAt: schedule.type === 'interval' ? first : null,
      });
    }
    this.tasks.update(id, patch, this.now());
    this.opts.engine?.changed();
    return this.get(actor, id);
  }

  /** Stops future runs (a run in progress finishes). Pausing a paused task is a no-op. */
  pause(actor: Actor, id: string): TaskView {
    const task = this.load(actor, id);
    if (task.status === 'active') this.setStatus(task, { status: 'paused' });
    else if (task.status !== 'paused') this.refuseFinal(task, 'paused');
    return this.get(actor, id);
  }

  /**
   * Resumes from now: occurrences that fell in the pause are not "missed" (they were not
   * wanted) and the failure count starts again at 0.
   */
  resume(actor: Actor, id: string): TaskView {
    const task = this.load(actor, id);
    if (task.status === 'paused') {
      const schedule = scheduleOf(task);
      const next = scheduleGuard(() =>
        nextRun(
          schedule,
          new Date(this.now()),
          task.anchorAt === null ? undefined : new Date(task.anchorAt),
        ),
      );
      if (next === null) {
        throw new TaskError(
          'conflict',
          `task ${id} has no future run left (its time has passed); use run-now or create a new task`,
        );
      }
      this.setStatus(task, { status: 'active', nextRunAt: next.getTime(), consecutiveFailures: 0 });
    } else if (task.status !== 'active') {
      this.refuseFinal(task, 'resumed');
    }
    return this.get(actor, id);
  }

  /** Ends the task for good (a run in progress finishes). Its history stays. */
  cancel(actor: Actor, id: string): TaskView {
    const task = this.load(actor, id);
    if (task.status !== 'cancelled') this.setStatus(task, { status: 'cancelled', nextRunAt: null });
    return this.get(actor, id);
  }

  /** Deletes the task and its history. Refused while a run of it is in progress. */
  remove(actor: Actor, id: string): void {
    const task = this.load(actor, id);
    if (task.leaseOwner !== null && (task.leaseExpiresAt ?? 0) > this.now()) {
      throw new TaskError(
        'conflict',
        `task ${id} is running now; cancel it, or wait until it ends`,
      );
    }
    this.tasks.remove(id);
    this.opts.engine?.changed();
  }

  /** Runs the task once now, beside its schedule (which is unchanged). Needs the daemon. */
  runNow(actor: Actor, id: string): { taskRunId: number; scheduledFor: number } {
    const task = this.load(actor, id);
    if (task.status === 'cancelled') {
      throw new TaskError('conflict', `task ${id} is cancelled; create a new task instead`);
    }
    if (!this.opts.engine) {
      throw new TaskError(
        'unavailable',
        'running a task now needs the running daemon (start it with `clawpod start`)',
      );
    }
    return this.opts.engine.runNow(id);
  }

  /** The task's occurrences, newest first: run, missed and skipped. */
  history(actor: Actor, id: string, limit = 50): TaskRunRecord[] {
    this.load(actor, id);
    return this.runs.list(id, limit);
  }

  /** The next `n` fire times of a task, in its zone. */
  next(actor: Actor, id: string, n = 5): SchedulePreview {
    const task = this.load(actor, id);
    const schedule = scheduleOf(task);
    const anchor = task.anchorAt === null ? undefined : new Date(task.anchorAt);
    const from = Math.max(this.now(), (task.nextRunAt ?? this.now() + 1) - 1);
    const times = scheduleGuard(() => nextRuns(schedule, new Date(from), n, anchor)).map((d) => ({
      at: d.getTime(),
      local: isoInZone(d.getTime(), schedule.timezone),
    }));
    return { schedule: { ...schedule, description: describeSchedule(schedule) }, times };
  }

  private created(task: TaskRecord, created: boolean): CreatedTask {
    const schedule = scheduleOf(task);
    const anchor = task.anchorAt === null ? undefined : new Date(task.anchorAt);
    const from = (task.nextRunAt ?? this.now()) - 1;
    const nextTimes = task.status === 'active' ? nextRuns(schedule, new Date(from), 3, anchor) : [];
    return {
      id: task.id,
      created,
      schedule: { ...schedule, description: describeSchedule(schedule) },
      nextRuns: nextTimes.map((d) => isoInZone(d.getTime(), task.timezone)),
      task: toTaskView(task, this.now()),
      expectedCost: expectedTaskCost(this.opts.store, task, this.now()),
    };
  }

  private setStatus(task: TaskRecord, patch: TaskPatch): void {
    this.tasks.update(task.id, patch, this.now());
    this.opts.engine?.changed();
  }

  private refuseFinal(task: TaskRecord, verb: string): never {
    throw new TaskError(
      'conflict',
      `task ${task.id} is ${task.status} and cannot be ${verb}; create a new task instead`,
    );
  }

  private load(actor: Actor, id: string): TaskRecord {
    const task = this.tasks.get(id);
    if (!task || !mayManage(actor, task.group)) throw noSuchTask(id);
    return task;
  }

  private group(name: string): Group {
    const g = this.opts.store.groups.get(name);
    if (!g) throw new TaskError('not_found', `no group named "${name}" (clawpod groups list)`);
    return g;
  }
}
