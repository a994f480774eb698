import type { Logger } from 'pino';
import type { ChannelSet } from '../channels/registry.js';
import type { Config } from '../config/load.js';
import type { OutboxWorker } from '../delivery/outbox-worker.js';
import type { Group } from '../groups/group-schema.js';
import { cleanReply } from '../router/prompt.js';
import type { Store } from '../store/store.js';
import type { AgentRun, RunnerRegistry } from './runner.js';

export interface AgentJobDeps {
  config: Config;
  store: Store;
  runners: RunnerRegistry;
  outbox: OutboxWorker;
  channels: ChannelSet;
  log: Logger;
  now: () => number;
}

/** One agent invocation, for a message batch or a task. The caller owns the run row. */
export interface AgentJob {
  runId: string;
  group: Group;
  chatJid: string;
  prompt: string;
  /** Resume and keep the group's session; false runs a fresh, unsaved one (isolated tasks). */
  useGroupSession: boolean;
  /** Prefix of the outbox idempotency keys of this job's replies. */
  keyPrefix: string;
  /**
   * Runs inside each turn's commit transaction (with the replies), given the last answered
   * input id; the messages path advances the group's cursor here.
   */
  onCommit(lastInputId: number): void;
  /** The live agent, for hand-offs, while it runs. */
  onLive?(agent: AgentRun): void;
  /** Highest input id handed to the agent so far (0 without hand-offs). */
  lastInputId?(): number;
}

export type AgentJobOutcome =
  | { status: 'ok' }
  /** Told the chat why (no harness, missing credential, …); retrying cannot help. */
  | { status: 'refused'; message: string }
  | { status: 'failed'; message: string };

/**
 * Runs a job to its end: picks the group's runner (or answers why none can run), streams its
 * events, and commits each turn's replies in one transaction with `onCommit`.
 */
export async function runAgentJob(deps: AgentJobDeps, job: AgentJob): Promise<AgentJobOutcome> {
  const { config, store, runners, outbox } = deps;
  const g = job.group;
  const log = deps.log.child({ group: g.folder, run: job.runId });
  const harness = g.harness ?? config.file.defaults.harness;
  const runner = runners.get(harness);
  await runner?.prepare?.(g);
  const problem = runner
    ? runner.problem(g)
    : {
        message: `The "${harness}" agent harness is not available in this clawpod build. Set another harness for this group: clawpod groups set ${g.folder} harness=<name> (available: ${runners.names().join(', ') || 'none'}).`,
      };
  const refuse = (message: string): AgentJobOutcome => {
    store.tx(() => {
      outbox.enqueue({
        key: `${job.keyPrefix}:notice`,
        chatJid: job.chatJid,
        text: `⚠️ ${message}`,
        runId: job.runId,
      });
      job.onCommit(job.lastInputId?.() ?? 0);
    });
    outbox.kick();
    return { status: 'refused', message };
  };
  if (!runner || problem) {
    log.warn({ problem: problem?.message }, 'no usable harness; telling the chat');
    return refuse(problem!.message);
  }

  const agent = runner.start({
    runId: job.runId,
    group: g,
    harness,
    model: g.model ?? config.file.defaults.model,
    prompt: job.prompt,
    sessionId: job.useGroupSession ? store.sessions.get(g.folder, harness) : undefined,
    chatJid: job.chatJid,
    timezone: config.timezone,
    assistantName: config.file.assistant.name,
  });
  job.onLive?.(agent);
  const timeoutMs = g.limits.runTimeoutMs ?? config.file.limits.runTimeoutMs;
  const timer = setTimeout(() => agent.kill('run timeout'), timeoutMs).unref();
  const channel = deps.channels.forChat(job.chatJid);
  void channel?.setTyping?.(job.chatJid, true).catch(() => undefined);
  log.info({ harness }, 'run started');

  let outputs: string[] = [];
  let turn = 0;
  let answered = -1;
  let failure: { message: string; retryable?: boolean } | undefined;
  try {
    for await (const ev of agent.events) {
      if (ev.type === 'output') {
        const text = cleanReply(ev.text);
        if (text) outputs.push(text);
      } else if (ev.type === 'turn-end') {
        const texts = outputs;
        const t = turn++;
        store.tx(() => {
          texts.forEach((text, i) =>
            outbox.enqueue({
              key: `${job.keyPrefix}:${t}:${i}`,
              chatJid: job.chatJid,
              text,
              runId: job.runId,
            }),
          );
          job.onCommit(ev.lastInputId);
          if (ev.usage) store.runs.addUsage(job.runId, ev.usage);
          if (ev.sessionId && job.useGroupSession)
            store.sessions.set(g.folder, harness, ev.sessionId, deps.now());
        });
        outbox.kick();
        outputs = [];
        answered = Math.max(answered, ev.lastInputId);
      } else {
        failure = ev;
      }
    }
  } catch (err) {
    failure = { message: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    void channel?.setTyping?.(job.chatJid, false).catch(() => undefined);
  }
  if (failure?.retryable === false) {
    log.warn({ err: failure.message }, 'run failed; not retryable');
    return refuse(failure.message);
  }
  if (failure) return { status: 'failed', message: failure.message };
  if ((job.lastInputId?.() ?? 0) > answered)
    return { status: 'failed', message: 'the agent exited before answering' };
  log.info('run finished');
  return { status: 'ok' };
}
