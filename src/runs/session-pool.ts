import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { optionsFor } from '../groups/harness-options.js';
import type { Group } from '../store/group-schema.js';
import type { AgentSessionRecord } from '../store/agent-sessions.js';
import type { Store } from '../store/store.js';
import type { LauncherRegistry } from './agent-process.js';
import { AgentSession } from './agent-session.js';

export interface SessionPoolOptions {
  config: Config;
  store: Store;
  launchers: LauncherRegistry;
  clock: Clock;
  log: Logger;
}

/** What a job needs a session for. */
export interface SessionRequest {
  /** The queue lane; one live session per lane. */
  lane: string;
  group: Group;
  harness: string;
  /**
   * Resume the group's conversation (conversation lane) and keep the session for follow-ups;
   * false: a fresh conversation, closed after its one turn (isolated tasks).
   */
  conversation: boolean;
}

const newSessionId = (): string =>
  `ses_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

/** The group settings a live session was started with (a change needs a new one). */
function fingerprint(group: Group, harness: string, model: string | null): string {
  const { command, runtime, env, limits, isMain, mounts } = group;
  return JSON.stringify({
    harness,
    model,
    command,
    runtime,
    options: optionsFor(group, harness),
    env,
    limits,
    isMain,
    mounts,
  });
}

/**
 * The live agent sessions, at most one per lane and at most `limits.maxConcurrentRuns` in all.
 * A job asks for its lane's session: the idle one if its settings still match, else a new one
 * (an idle session elsewhere is closed to make room: idle sessions always yield). An idle
 * conversation session ends after `defaults.idleTimeoutMs`, or at its next idle moment once
 * older than `defaults.sessionMaxAgeMs`; ending is never a failure. `warm` groups keep one
 * conversation session started ahead.
 */
export class SessionPool {
  private readonly live = new Map<string, AgentSession>();
  private readonly idleTimers = new Map<AgentSession, unknown>();
  private accepting = true;

  constructor(private readonly opts: SessionPoolOptions) {}

  private get max(): number {
    return this.opts.config.file.limits.maxConcurrentRuns;
  }

  /**
   * The lane's session, ready for a turn. Call only from the job running the lane (so the
   * lane's session is never busy here). The launcher's `problem` must have been checked.
   */
  acquire(req: SessionRequest): AgentSession {
    const { config } = this.opts;
    const model = req.group.model ?? config.file.defaults.model;
    const fp = fingerprint(req.group, req.harness, model);
    const existing = this.live.get(req.lane);
    if (existing) {
      if (existing.state.name === 'idle' && existing.meta.fingerprint === fp) {
        this.disarm(existing);
        return existing;
      }
      existing.close('the group settings changed');
      this.live.delete(req.lane);
    }
    this.makeRoom(1);
    const launcher = this.opts.launchers.get(req.harness);
    if (!launcher) throw new Error(`no launcher for harness "${req.harness}"`);
    const meta = {
      id: newSessionId(),
      token: randomBytes(24).toString('base64url'),
      lane: req.lane,
      group: req.group.folder,
      harness: req.harness,
      fingerprint: fp,
      singleTurn: !req.conversation,
    };
    const resumeId = req.conversation
      ? (this.opts.store.resumeIds.get(req.group.folder, req.harness) ?? null)
      : null;
    const proc = launcher.start({
      sessionId: meta.id,
      sessionToken: meta.token,
      group: req.group,
      harness: req.harness,
      model,
      resumeId,
      timezone: config.timezone,
      assistantName: config.file.assistant.name,
      maxLifeMs:
        config.file.defaults.sessionMaxAgeMs +
        (req.group.limits.runTimeoutMs ?? config.file.limits.runTimeoutMs),
    });
    const openedAt = this.opts.clock.now();
    this.record(meta.id, (rows) =>
      rows.open({
        id: meta.id,
        group: meta.group,
        lane: meta.lane,
        harness: meta.harness,
        now: openedAt,
      }),
    );
    const session = new AgentSession(proc, meta, {
      clock: this.opts.clock,
      log: this.opts.log,
      onState: (s) => this.onState(s),
    });
    this.live.set(req.lane, session);
    this.opts.log.info(
      { group: meta.group, session: meta.id, lane: meta.lane, harness: meta.harness },
      'agent session started',
    );
    return session;
  }

  /** The live session holding `token` in `group` (IPC requests name their session so). */
  byToken(group: string, token: string): AgentSession | undefined {
    for (const s of this.live.values())
      if (s.meta.group === group && s.meta.token === token) return s;
    return undefined;
  }

  /**
   * Stops the turn answering `runId` (the owner asked): its session's process ends and the
   * turn's outcome is `stopped`. False when no live session is answering that run.
   */
  stopRun(runId: string, reason: string): boolean {
    for (const s of this.live.values())
      if (s.state.name === 'busy' && s.state.turn.context.runId === runId) return s.stop(reason);
    return false;
  }

  /** The live session with this id (the egress proxy knows a session by it). */
  byId(id: string): AgentSession | undefined {
    for (const s of this.live.values()) if (s.meta.id === id) return s;
    return undefined;
  }

  /** Live sessions (status, API). */
  list(): AgentSession[] {
    return [...this.live.values()];
  }

  /** Session records: live ones and recent history (from the store). */
  records(limit = 50): AgentSessionRecord[] {
    return this.opts.store.agentSessions.list({ limit });
  }

  /**
   * Keeps one conversation session started ahead for a `warm` group, so its next message skips
   * the start. Only when there is room: a warm session never pushes out a live one.
   */
  prewarm(group: Group): void {
    if (!this.accepting || !group.warm || this.live.has(group.folder)) return;
    if (this.live.size >= this.max) return;
    const harness = group.harness ?? this.opts.config.file.defaults.harness;
    const launcher = this.opts.launchers.get(harness);
    if (!launcher) return;
    void (async () => {
      await launcher.prepare?.(group);
      if (launcher.problem(group) || this.live.has(group.folder) || !this.accepting) return;
      this.acquire({ lane: group.folder, group, harness, conversation: true });
      this.opts.log.info({ group: group.folder }, 'agent session started ahead (warm)');
    })().catch((err: unknown) =>
      this.opts.log.warn({ err, group: group.folder }, 'could not start a warm session'),
    );
  }

  /**
   * Shutdown: no new sessions; idle ones close now, busy ones after their turn. Resolves when
   * every session is gone or `timeoutMs` passed (then the rest are killed).
   */
  async drain(timeoutMs: number): Promise<void> {
    this.accepting = false;
    for (const s of this.live.values()) s.close('the daemon is stopping');
    const all = Promise.allSettled([...this.live.values()].map((s) => s.closed));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)));
    if (await Promise.race([all.then(() => false), timedOut])) {
      this.killAll('daemon shutdown');
      await all;
    }
    clearTimeout(timer);
    await this.opts.store.committed(); // the closed rows, before the store closes
  }

  /** Ends every session at once. */
  killAll(reason: string): void {
    for (const s of this.live.values()) s.kill(reason);
  }

  /** Closes the longest-idle sessions until `n` more fit under the cap. */
  private makeRoom(n: number): void {
    const idle = [...this.live.values()]
      .filter((s) => s.state.name === 'idle')
      .sort((a, b) => idleSince(a) - idleSince(b));
    while (this.live.size + n > this.max && idle.length) {
      const s = idle.shift()!;
      this.opts.log.info(
        { group: s.meta.group, session: s.id },
        'closing an idle agent session: another lane needs the room',
      );
      s.close('made room for other work');
      this.live.delete(s.meta.lane);
    }
  }

  private onState(s: AgentSession): void {
    const { store, clock, config } = this.opts;
    const now = clock.now();
    const state = s.state;
    this.disarm(s);
    if (state.name === 'closed') {
      this.record(s.id, (rows) => rows.close(s.id, state.reason, now));
      if (this.live.get(s.meta.lane) === s) this.live.delete(s.meta.lane);
      this.opts.log.info(
        { group: s.meta.group, session: s.id, reason: state.reason },
        'agent session ended',
      );
      if (s.meta.lane === s.meta.group) {
        const group = store.groups.get(s.meta.group);
        if (group?.warm) this.prewarm(group); // the group's conversation lane only
      }
      return;
    }
    this.record(s.id, (rows) => rows.setState(s.id, state.name, now));
    if (state.name !== 'idle') return;
    const age = now - s.startedAt;
    if (!this.accepting) s.close('the daemon is stopping');
    else if (s.meta.singleTurn) s.close('its one turn is done');
    else if (age >= config.file.defaults.sessionMaxAgeMs) s.close('reached its maximum age');
    else if (!this.isWarmSession(s)) {
      const timer = clock.setTimeout(
        () => s.close('idle timeout'),
        config.file.defaults.idleTimeoutMs,
      );
      this.idleTimers.set(s, timer);
    }
  }

  /**
   * Session rows are bookkeeping for `clawpod runs sessions` and the API, and are rebuilt at
   * start (closeStale), so a transition is not a durable commit of its own: it goes through
   * group commit, where the transitions of one event-loop turn (a burst of task runs: five
   * each) share one transaction and one fsync. Rows are on disk within that turn, in order.
   */
  private record(id: string, write: (rows: Store['agentSessions']) => void): void {
    const { store, log } = this.opts;
    store
      .commit(() => write(store.agentSessions))
      .catch((err: unknown) =>
        log.warn({ err, session: id }, 'could not record an agent session state'),
      );
  }

  /** A warm group's conversation session waits without an idle timeout. */
  private isWarmSession(s: AgentSession): boolean {
    const group = this.opts.store.groups.get(s.meta.group);
    return Boolean(group?.warm && s.meta.lane === group.folder);
  }

  private disarm(s: AgentSession): void {
    const timer = this.idleTimers.get(s);
    if (timer === undefined) return;
    this.opts.clock.clearTimeout(timer);
    this.idleTimers.delete(s);
  }
}

const idleSince = (s: AgentSession): number =>
  s.state.name === 'idle' ? s.state.since : Number.MAX_SAFE_INTEGER;
