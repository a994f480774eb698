import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Usage } from '../protocol/runner-protocol.js';
import type { AgentProcess } from './agent-process.js';

/** What a turn answers: the run, and where its replies go. Tools default to this chat. */
export interface TurnContext {
  runId: string;
  chat: string;
  /** Platform id of the message being answered (null for a task). */
  replyTo: string | null;
}

export type TurnOutcome =
  | { ok: true; messages: string[]; resumeId: string | null; usage?: Usage }
  | { ok: false; message: string; retryable: boolean }
  /** The owner stopped the turn (see {@link AgentSession.stop}): not a failure, not retried. */
  | { ok: false; stopped: true; message: string; retryable: false };

/**
 * What the agent is doing while a turn runs, for live views only (never stored): a piece of
 * the reply being written, a tool step that started, a log line.
 */
export type TurnProgress =
  | { kind: 'partial'; text: string }
  | { kind: 'tool'; name: string; summary: string }
  | { kind: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string };

/** Hooks of one turn. */
export interface TurnHooks {
  timeoutMs: number;
  onMessage?: (text: string) => void;
  /** Progress events of this turn (partials, tool steps, log lines); must not throw. */
  onProgress?: (p: TurnProgress) => void;
}

/** What identifies a session beyond its process. */
export interface SessionMeta {
  id: string;
  /** The IPC capability the process was given (see StartRequest.sessionToken). */
  token: string;
  /** The queue lane it serves. */
  lane: string;
  group: string;
  harness: string;
  /** The group settings it was started with; a change means a fresh session. */
  fingerprint: string;
  /** Close after each turn instead of waiting for follow-ups (isolated tasks). */
  singleTurn: boolean;
}

interface ActiveTurn {
  context: TurnContext;
  messages: string[];
  onMessage?: (text: string) => void;
  onProgress?: (p: TurnProgress) => void;
  timer: unknown;
  timedOut: string | null;
  /** Set when the owner stopped the turn: its outcome is `stopped`, whatever the process says. */
  stoppedBy: string | null;
  resolve: (outcome: TurnOutcome) => void;
}

/**
 * A session's lifecycle. `idle` waits for a turn; `busy` answers one; `closing` was asked to end
 * (or its process failed) and takes no more turns; `closed` is gone. `closeAfterTurn` is set when
 * a close is asked while busy.
 */
export type SessionState =
  | { name: 'idle'; since: number }
  | { name: 'busy'; turn: ActiveTurn; closeAfterTurn: string | null }
  | { name: 'closing'; reason: string }
  | { name: 'closed'; reason: string };

export interface AgentSessionDeps {
  clock: Clock;
  log: Logger;
  /** Every state transition (the pool persists it and arms idle timers). */
  onState(session: AgentSession): void;
}

const minutes = (ms: number) =>
  ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;

/**
 * The host side of one live agent process: it answers one turn at a time and may wait, idle,
 * for the next. A turn ends when the agent answered (`result`) or failed; the session lives on
 * after an answer. A session that ends while idle (expiry, eviction, a crash) fails nothing.
 */
export class AgentSession {
  readonly startedAt: number;
  private state_: SessionState;
  private nextInput = 0;
  /** The conversation of the input being (or last) answered; IPC tools default to its chat. */
  context: TurnContext | undefined;
  private markReady!: () => void;
  /** Resolves when the process reported `ready` (its runner is up and takes inputs). */
  readonly ready = new Promise<void>((r) => (this.markReady = r));
  private markClosed!: (reason: string) => void;
  /** Resolves with the reason once the process is gone. */
  readonly closed = new Promise<string>((r) => (this.markClosed = r));
  private readonly log: Logger;

  constructor(
    private readonly proc: AgentProcess,
    readonly meta: SessionMeta,
    private readonly deps: AgentSessionDeps,
  ) {
    this.startedAt = deps.clock.now();
    this.state_ = { name: 'idle', since: this.startedAt };
    this.log = deps.log.child({ group: meta.group, session: meta.id });
    void this.pump();
  }

  get id(): string {
    return this.meta.id;
  }

  get state(): SessionState {
    return this.state_;
  }

  /**
   * Answers one input. Only when idle. Resolves when the agent answered or the turn failed
   * (the process then ends); `timeoutMs` stops a turn that takes too long.
   */
  turn(prompt: string, context: TurnContext, opts: TurnHooks): Promise<TurnOutcome> {
    if (this.state_.name !== 'idle')
      return Promise.resolve({
        ok: false,
        message: `the agent session was ${this.state_.name}, not ready for a turn`,
        retryable: true,
      });
    return new Promise<TurnOutcome>((resolve) => {
      const turn: ActiveTurn = {
        context,
        messages: [],
        onMessage: opts.onMessage,
        onProgress: opts.onProgress,
        timedOut: null,
        stoppedBy: null,
        resolve,
        timer: this.deps.clock.setTimeout(() => {
          turn.timedOut = `the run hit its time limit (${minutes(opts.timeoutMs)}, limits.runTimeoutMs) and was stopped`;
          this.proc.kill('run time limit');
        }, opts.timeoutMs),
      };
      this.context = context;
      this.transition({ name: 'busy', turn, closeAfterTurn: null });
      if (!this.proc.send({ type: 'input', id: this.nextInput++, prompt }))
        this.endTurn({
          ok: false,
          message: 'the agent process had already ended',
          retryable: true,
        });
    });
  }

  /** Ends the session after its current turn (at once when idle). */
  close(reason: string): void {
    const s = this.state_;
    if (s.name === 'busy') {
      s.closeAfterTurn ??= reason;
      return;
    }
    if (s.name !== 'idle') return;
    this.transition({ name: 'closing', reason });
    this.proc.close();
  }

  /**
   * The owner stops the turn in flight: the process ends at once (a half-done turn cannot be
   * resumed safely) and the turn's outcome is `stopped`. False when no turn is in flight.
   */
  stop(reason: string): boolean {
    const s = this.state_;
    if (s.name !== 'busy') return false;
    s.turn.stoppedBy = reason;
    this.proc.kill(reason);
    return true;
  }

  /** Ends the process at once; a turn in flight fails with `reason`. */
  kill(reason: string): void {
    if (this.state_.name === 'closed') return;
    if (this.state_.name !== 'busy') this.transition({ name: 'closing', reason });
    this.proc.kill(reason);
  }

  private transition(next: SessionState): void {
    this.state_ = next;
    this.deps.onState(this);
  }

  private endTurn(outcome: TurnOutcome): void {
    const s = this.state_;
    if (s.name !== 'busy') return;
    this.deps.clock.clearTimeout(s.turn.timer);
    if (s.turn.stoppedBy !== null)
      outcome = { ok: false, stopped: true, message: s.turn.stoppedBy, retryable: false };
    if (!outcome.ok) {
      // The runner ends itself after a failed turn; make sure of it (a retry starts afresh).
      this.transition({ name: 'closing', reason: `turn failed: ${outcome.message}` });
      this.proc.kill('turn failed');
    } else if (s.closeAfterTurn) {
      this.transition({ name: 'closing', reason: s.closeAfterTurn });
      this.proc.close();
    } else this.transition({ name: 'idle', since: this.deps.clock.now() });
    s.turn.resolve(outcome);
  }

  private async pump(): Promise<void> {
    let lastError: string | undefined;
    try {
      for await (const ev of this.proc.events) {
        const s = this.state_;
        const turn = s.name === 'busy' ? s.turn : undefined;
        if (ev.type === 'ready') this.markReady();
        else if (ev.type === 'message') {
          if (!turn) {
            this.log.warn({ text: ev.text.slice(0, 200) }, 'agent spoke outside a turn; dropped');
            continue;
          }
          turn.messages.push(ev.text);
          turn.onMessage?.(ev.text);
        } else if (ev.type === 'partial' || ev.type === 'tool' || ev.type === 'log') {
          if (!turn) continue;
          const { type, ...rest } = ev;
          turn.onProgress?.({ kind: type, ...rest } as TurnProgress);
        } else if (ev.type === 'result') {
          if (turn)
            this.endTurn({
              ok: true,
              messages: turn.messages,
              resumeId: ev.resumeId ?? null,
              usage: ev.usage,
            });
        } else if (ev.type === 'error') {
          lastError = ev.message;
          if (turn)
            this.endTurn({
              ok: false,
              message: turn.timedOut ?? ev.message,
              retryable: turn.timedOut ? true : ev.retryable !== false,
            });
          else this.log.warn({ err: ev.message }, 'agent session failed while idle');
        }
      }
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    const s = this.state_;
    if (s.name === 'busy')
      this.endTurn({
        ok: false,
        message: s.turn.timedOut ?? lastError ?? 'the agent process ended before answering',
        retryable: true,
      });
    const reason =
      this.state_.name === 'closing'
        ? this.state_.reason
        : `the agent process ended${lastError ? `: ${lastError}` : ''}`;
    this.transition({ name: 'closed', reason });
    this.markClosed(reason);
  }
}
