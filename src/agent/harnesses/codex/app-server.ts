// zod/mini, like everything in the runner bundle (see runner-protocol.ts).
import * as z from 'zod/mini';
import type { RunnerEvent } from '../../../protocol/runner-protocol.js';
import { IpcClient } from '../../mcp/ipc-client.js';
import type { Harness } from '../harness.js';
import { AppServerClient, AppServerError } from './app-server-client.js';
import { AppServerTurnReader } from './app-server-events.js';
import { CodexApprovals } from './approvals.js';
import type { CodexCommand } from './binary.js';
import type { CodexRun } from './context.js';
import { classifyFailure } from './events.js';

/**
 * The codex harness's `app-server` mode (the default): one `codex app-server` process per agent
 * session (started at the first turn, ended by `close`), which keeps the thread, the clawpod MCP
 * server and Codex's own state warm between turns. Per turn: `turn/start` on the session's
 * thread; its notifications become clawpod events (app-server-events.ts); Codex's approval
 * requests go to the guard (approvals.ts). The first turn starts the thread, or resumes the
 * stored one (`thread/resume`), so a new session continues the conversation; a thread Codex no
 * longer has is logged and replaced by a fresh one.
 */

/** Seen from the app-server's clients in User-Agent and logs. */
const CLIENT_INFO = { name: 'clawpod', title: 'clawpod', version: '1' };
/** Notifications we never read: spare the pipe. */
const OPT_OUT = [
  'account/rateLimits/updated',
  'remoteControl/status/changed',
  'item/commandExecution/outputDelta',
  'item/reasoning/textDelta',
  'item/reasoning/summaryTextDelta',
  'item/reasoning/summaryPartAdded',
];
/** A `thread/resume` error meaning Codex does not have the thread (any more). */
const THREAD_GONE = /no rollout|not found|does not exist|no such|unknown thread|invalid thread/i;

const threadAnswer = z.looseObject({ thread: z.looseObject({ id: z.string() }) });
const turnAnswer = z.looseObject({ turn: z.looseObject({ id: z.string() }) });
const itemStarted = z.looseObject({
  item: z.optional(
    z.looseObject({
      id: z.optional(z.string()),
      type: z.optional(z.string()),
      changes: z.optional(z.array(z.looseObject({ path: z.optional(z.string()) }))),
    }),
  ),
});

/** The live process and the thread it serves (null until the first turn set it). */
interface Live {
  client: AppServerClient;
  threadId: string | null;
}

type Session =
  | { name: 'idle' }
  | { name: 'starting'; live: Promise<Live> }
  | { name: 'live'; live: Live }
  | { name: 'closed' };

/** The turn being answered: where its notifications and approval notes go. */
interface ActiveTurn {
  reader: AppServerTurnReader;
  queue: EventQueue;
}

export function createAppServerHarness(run: CodexRun): Harness {
  let session: Session = { name: 'idle' };
  let active: ActiveTurn | null = null;
  /** File-change paths by item id, for approval requests that name only the item. */
  const changes = new Map<string, string[]>();
  const approvals = new CodexApprovals(
    new IpcClient(run.ipcDir, run.start.sessionToken),
    (ev) => active?.queue.push(ev),
    (itemId) => changes.get(itemId) ?? [],
  );

  function onNotification(method: string, params: unknown): void {
    if (method === 'item/started') {
      const p = itemStarted.safeParse(params);
      const item = p.success ? p.data.item : undefined;
      if (item?.type === 'fileChange' && item.id)
        changes.set(
          item.id,
          (item.changes ?? []).flatMap((c) => (c.path ? [c.path] : [])),
        );
    }
    const turn = active;
    if (!turn) return;
    for (const ev of turn.reader.notification(method, params)) turn.queue.push(ev);
    if (turn.reader.end) turn.queue.finish();
  }

  async function startServer(codex: CodexCommand): Promise<Live> {
    const client = new AppServerClient(
      codex,
      { cwd: run.groupDir, env: run.childEnv() },
      { notification: onNotification, request: (m, p) => approvals.answer(m, p) },
    );
    void client.exited.then(() => {
      active?.queue.finish();
      if (session.name === 'live' && session.live.client === client) session = { name: 'idle' };
    });
    try {
      await client.request('initialize', {
        clientInfo: CLIENT_INFO,
        capabilities: {
          experimentalApi: false,
          requestAttestation: false,
          optOutNotificationMethods: OPT_OUT,
        },
      });
      client.notify('initialized');
    } catch (err) {
      client.stop();
      throw err;
    }
    return { client, threadId: null };
  }

  /** The session's live server, started (and initialized) at the first turn. */
  async function liveServer(codex: CodexCommand): Promise<Live> {
    if (session.name === 'live') return session.live;
    if (session.name === 'starting') return session.live;
    if (session.name === 'closed') throw new Error('the codex harness is closed');
    const starting = startServer(codex);
    session = { name: 'starting', live: starting };
    try {
      const live = await starting;
      if ((session as Session).name === 'closed') {
        live.client.stop();
        throw new Error('the codex harness is closed');
      }
      session = { name: 'live', live };
      return live;
    } catch (err) {
      if (session.name === 'starting') session = { name: 'idle' };
      throw err;
    }
  }

  /** The thread for this turn: the live one, else `resumeId` resumed, else a new one. */
  async function* thread(live: Live, resumeId: string | null): AsyncGenerator<RunnerEvent, string> {
    if (live.threadId && (resumeId === null || resumeId === live.threadId)) return live.threadId;
    if (resumeId) {
      try {
        const answer = threadAnswer.parse(
          await live.client.request('thread/resume', {
            threadId: resumeId,
            cwd: run.groupDir,
            excludeTurns: true,
          }),
        );
        live.threadId = answer.thread.id;
        return live.threadId;
      } catch (err) {
        if (!(err instanceof AppServerError) || err.code === null || !THREAD_GONE.test(err.message))
          throw err;
        yield {
          type: 'log',
          level: 'warn',
          msg: `codex thread ${resumeId} is gone (${err.message.slice(0, 200)}); starting a fresh one`,
        };
      }
    }
    const answer = threadAnswer.parse(
      await live.client.request('thread/start', { cwd: run.groupDir }),
    );
    live.threadId = answer.thread.id;
    return live.threadId;
  }

  return {
    name: 'codex',
    async *turn(prompt, resumeId, signal): AsyncGenerator<RunnerEvent> {
      const ready = await run.preflight();
      if (!ready.ok) {
        yield ready.event;
        return;
      }
      let live: Live;
      let threadId: string;
      try {
        live = await liveServer(ready.codex);
        threadId = yield* thread(live, resumeId);
      } catch (err) {
        yield { type: 'error', message: `codex app-server: ${(err as Error).message}` };
        return;
      }
      let startError: string | null = null;
      const turn: ActiveTurn = {
        reader: new AppServerTurnReader(threadId),
        queue: new EventQueue(),
      };
      active = turn;
      // An abort ends the server (and so the turn): the runner ends after a failed turn anyway.
      const stop = () => {
        live.client.stop();
        turn.queue.finish();
      };
      signal.addEventListener('abort', stop, { once: true });
      try {
        if (signal.aborted) stop();
        const started = live.client
          .request('turn/start', {
            threadId,
            input: [{ type: 'text', text: prompt, text_elements: [] }],
          })
          .then((answer) => turnAnswer.parse(answer).turn.id);
        started.catch((err: unknown) => {
          startError = (err as Error).message;
          turn.queue.finish();
        });
        yield* turn.queue;
      } finally {
        signal.removeEventListener('abort', stop);
        active = null;
        changes.clear();
      }
      const { reader } = turn;
      if (signal.aborted) {
        yield { type: 'error', message: 'the codex turn was aborted' };
        return;
      }
      const end = reader.end;
      if (!end) {
        yield {
          type: 'error',
          message: `codex ended before finishing the turn: ${startError ?? live.client.exitMessage()}`,
        };
        return;
      }
      if (end.status === 'failed') {
        yield { type: 'error', ...classifyFailure(end.message, run.failureCtx) };
        return;
      }
      if (end.status === 'interrupted') {
        yield { type: 'error', message: 'the codex turn was interrupted' };
        return;
      }
      // Keep the exec-mode ledger in step, so a group switched to exec counts from here.
      if (reader.totals) await run.ledger.turnDelta(threadId, reader.totals).catch(() => undefined);
      if (reader.reply?.trim()) yield { type: 'message', text: reader.reply };
      yield { type: 'result', resumeId: threadId, usage: run.usage(reader.tokens) };
    },
    close() {
      const was = session;
      session = { name: 'closed' };
      if (was.name === 'live') was.live.client.stop();
      else if (was.name === 'starting')
        void was.live.then(
          (l) => l.client.stop(),
          () => undefined,
        );
    },
  };
}

/** Events pushed by callbacks, read by the turn's generator; ends at `finish`. */
class EventQueue implements AsyncIterable<RunnerEvent> {
  private readonly items: RunnerEvent[] = [];
  private done = false;
  private wake: (() => void) | null = null;

  push(ev: RunnerEvent): void {
    if (this.done) return;
    this.items.push(ev);
    this.wake?.();
  }

  finish(): void {
    this.done = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RunnerEvent> {
    for (;;) {
      const next = this.items.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}
