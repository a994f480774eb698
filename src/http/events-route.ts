import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EventBus, RunProgress } from '../events/bus.js';
import type { ApprovalRecord } from '../store/approvals.js';
import type { StoredMessage } from '../store/messages.js';
import type { RunRecord } from '../store/runs.js';
import type { Store } from '../store/store.js';
import type { MessageView } from '../store/views.js';
import { apiError } from './errors.js';

/** How many stored messages a resume replays at most (the client reloads past that). */
const REPLAY_LIMIT = 1000;
/** How many recent runs a resume looks through for changes. */
const RUN_LOOKBACK = 200;

/**
 * The position of a stream in the stored events, sent as each stored event's SSE `id`:
 * `<seq>.<ms>` — the last message sequence number sent, and the time of the last run change
 * sent. A client that reconnects with `Last-Event-ID` (or `?after=<seq>`) gets every message
 * after `seq` (no gap, no duplicate) and every run that started or ended at or after `ms`
 * (run events are snapshots of the run row: one may repeat, never be missed).
 */
interface Cursor {
  seq: number;
  ms: number;
}

export function parseCursor(raw: string | undefined): Cursor | undefined | 'invalid' {
  if (raw === undefined || raw === '') return undefined;
  const m = /^(\d{1,15})(?:\.(\d{1,15}))?$/.exec(raw.trim());
  if (!m) return 'invalid';
  return { seq: Number(m[1]), ms: m[2] === undefined ? Number.MAX_SAFE_INTEGER : Number(m[2]) };
}

const messageView = (m: StoredMessage): MessageView => ({
  seq: m.seq,
  chat: m.chatId,
  direction: m.direction,
  sender: m.direction === 'out' ? 'assistant' : (m.senderName ?? m.sender),
  text: m.text,
  ts: m.ts,
});

const runTime = (r: RunRecord): number => r.endedAt ?? r.startedAt;

/**
 * `GET /api/events[?chat=][&after=<seq>]`: Server-Sent Events. `ready` first (with the cursor),
 * then `message` (stored messages), `run` (run rows as they start and end), `approval` (an
 * approval asked or decided; live only: `GET /api/approvals` lists the pending ones after a
 * reconnect) and `progress` (ephemeral: a run's partial text, tool steps and log lines; never
 * replayed). `chat` filters messages and progress. Mount after the token middleware.
 */
export function mountEventsRoute(app: Hono, deps: { store: Store; bus: EventBus }): void {
  app.get('/api/events', (c) => {
    const chat = c.req.query('chat') || undefined;
    const resume = parseCursor(c.req.header('last-event-id') ?? c.req.query('after'));
    if (resume === 'invalid')
      return apiError(
        c,
        400,
        'invalid_cursor',
        'Last-Event-ID / after must be <seq> or <seq>.<ms>',
      );
    return streamSSE(c, async (stream) => {
      // Without a run time (`?after=<seq>` alone), run changes count from now on.
      const since = resume && resume.ms !== Number.MAX_SAFE_INTEGER ? resume.ms : undefined;
      const cursor: Cursor = {
        seq: resume?.seq ?? deps.store.views.lastSeq(),
        ms: since ?? Date.now(),
      };
      const id = () => `${cursor.seq}.${cursor.ms}`;
      // Live events wait in this queue while the replay is written, so nothing overtakes it.
      let replaying = true;
      const held: Array<() => void> = [];
      const send = (event: string, data: unknown, stored: boolean) =>
        void stream.writeSSE({
          event,
          data: JSON.stringify(data),
          ...(stored ? { id: id() } : {}),
        });
      const onMessage = (msg: StoredMessage) => {
        if (chat && msg.chatId !== chat) return;
        const emit = () => {
          if (msg.seq <= cursor.seq) return; // already replayed
          cursor.seq = msg.seq;
          send('message', messageView(msg), true);
        };
        if (replaying) held.push(emit);
        else emit();
      };
      const onRun = (r: RunRecord) => {
        const emit = () => {
          cursor.ms = Math.max(cursor.ms, runTime(r));
          send('run', r, true);
        };
        if (replaying) held.push(emit);
        else emit();
      };
      const onProgress = (p: RunProgress) => {
        if (chat && p.chat !== chat) return;
        if (!replaying) send('progress', p, false);
      };
      const onApproval = (a: ApprovalRecord) => {
        const emit = () => send('approval', a, false);
        if (replaying) held.push(emit);
        else emit();
      };
      deps.bus.on('message', onMessage);
      deps.bus.on('run', onRun);
      deps.bus.on('progress', onProgress);
      deps.bus.on('approval', onApproval);
      try {
        if (resume) {
          for (const m of deps.store.views.messagesAfter(resume.seq, REPLAY_LIMIT, chat)) {
            cursor.seq = m.seq;
            send('message', m, true);
          }
        }
        if (since !== undefined) {
          const changed = deps.store.runs
            .list({ limit: RUN_LOOKBACK })
            .filter((r) => runTime(r) >= since)
            .sort((a, b) => runTime(a) - runTime(b));
          for (const r of changed) {
            cursor.ms = Math.max(cursor.ms, runTime(r));
            send('run', r, true);
          }
        }
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ cursor: id() }) });
        replaying = false;
        for (const emit of held.splice(0)) emit();
        await new Promise<void>((resolve) => stream.onAbort(resolve));
      } finally {
        deps.bus.off('message', onMessage);
        deps.bus.off('run', onRun);
        deps.bus.off('progress', onProgress);
        deps.bus.off('approval', onApproval);
      }
    });
  });
}
