/**
 * Load at defaults (runs issue): a real `bin/clawpod start` at the default settings (bubblewrap,
 * `limits.maxConcurrentRuns: 5`) but for `http.port: 0` and the `command` harness as default,
 * 20 groups each bound to its own web chat, each answering with `grep -c '<message '` (how many
 * messages its turn saw). 20 × 50 = 1,000 messages are posted at once through
 * `POST /api/messages`; the benchmark waits on the daemon's SSE stream until every message is
 * consumed by an `ok` run whose reply was delivered, then reads the database:
 * - answered: a message inside the seq range of an `ok` run of its chat with a delivered reply;
 * - lost: a message that got its 202 and was never consumed;
 * - duplicated: a message inside two `ok` runs, or a reply stored twice for one idempotency key;
 * - post → reply p50/p99: from the client's post to the delivery of the reply that consumed it.
 * Messages of a chat that arrive while its turn runs are batched into its next turn.
 * Run alone: `node --import tsx bench/load.ts` (after `npm run build`).
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { benchHome, DaemonChild } from './daemon-child.js';
import { machineMeta, percentile, printReport, type Figure } from './report.js';

const GROUPS = 20;
const PER_GROUP = 50;
const COMMAND = "grep -c '<message '";
/** Past this, the benchmark stops waiting and reports what is missing. */
const GIVE_UP_MS = 180_000;

interface Posted {
  chat: string;
  postedAt: number;
  seq?: number;
}

interface RunEvent {
  id: string;
  chatId: string | null;
  seqStart: number | null;
  seqEnd: number | null;
  status: string;
}

export async function loadBench(): Promise<Figure[]> {
  const home = benchHome('load', 'http: { port: 0 }\ndefaults: { harness: command }\n');
  const d = await DaemonChild.start(home);
  // Sessions in the pool (started, not yet closed to make room nor ended) and agent processes
  // alive (started, not yet ended: a session closed to make room lives until its runner exits).
  const pooled = new Set<unknown>();
  const alive = new Set<unknown>();
  let peakPooled = 0;
  let peakAlive = 0;
  let sessionsStarted = 0;
  d.onLog((l) => {
    if (l.msg === 'agent session started') {
      sessionsStarted++;
      pooled.add(l.session);
      alive.add(l.session);
      peakPooled = Math.max(peakPooled, pooled.size);
      peakAlive = Math.max(peakAlive, alive.size);
    } else if (l.msg === 'closing an idle agent session: another lane needs the room') {
      pooled.delete(l.session);
    } else if (l.msg === 'agent session ended') {
      pooled.delete(l.session);
      alive.delete(l.session);
    }
  });
  const chats = Array.from({ length: GROUPS }, (_, i) => `web:load-${i}`);
  for (const [i, chat] of chats.entries()) {
    const res = await d.api('/api/groups', {
      method: 'POST',
      body: { name: `load-${i}`, chats: [chat], requiresTrigger: false, command: COMMAND },
    });
    if (res.status !== 201) throw new Error(`group load-${i}: ${res.status} ${await res.text()}`);
  }

  // Completion, from the SSE stream: every message inside an ok run, and as many replies
  // delivered per chat as it had ok runs (the command always prints a line).
  const okRanges = new Map<string, Array<[number, number]>>(chats.map((c) => [c, []]));
  const replies = new Map<string, number>(chats.map((c) => [c, 0]));
  const posted: Posted[] = [];
  let acked = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const covered = (p: Posted) =>
    p.seq !== undefined && okRanges.get(p.chat)!.some(([a, b]) => a <= p.seq! && p.seq! <= b);
  const check = () => {
    if (acked < GROUPS * PER_GROUP) return;
    for (const c of chats) if (replies.get(c)! < okRanges.get(c)!.length) return;
    if (posted.every(covered)) finish();
  };
  const sub = await d.events((ev) => {
    const data = JSON.parse(ev.data) as Record<string, unknown>;
    if (ev.event === 'run') {
      const r = data as unknown as RunEvent;
      if (r.status === 'ok' && r.chatId && okRanges.has(r.chatId))
        okRanges.get(r.chatId)!.push([r.seqStart!, r.seqEnd!]);
    } else if (ev.event === 'message' && data.direction === 'out') {
      const chat = String(data.chat);
      if (replies.has(chat)) replies.set(chat, replies.get(chat)! + 1);
    }
    check();
  });

  // All at once: interleaved across chats, every request in flight together.
  const t0 = Date.now();
  const posts: Array<Promise<void>> = [];
  /** Posts cut by a connection error (sent again), by cause. */
  const resent = new Map<string, number>();
  for (let n = 0; n < PER_GROUP; n++) {
    for (const chat of chats) {
      const p: Posted = { chat, postedAt: Date.now() };
      posted.push(p);
      // A client-chosen id: a post cut by a connection reset is sent again and stored once.
      const body = { chat, text: `load ${chat} #${n}`, id: `load-${chat}-${n}` };
      posts.push(
        (async () => {
          for (;;) {
            const res = await d
              .api('/api/messages', { method: 'POST', body })
              .catch((err: Error & { cause?: { code?: string } }) => {
                const why = err.cause?.code ?? err.message;
                resent.set(why, (resent.get(why) ?? 0) + 1);
                return undefined;
              });
            if (!res) continue;
            if (res.status !== 202) throw new Error(`post: ${res.status} ${await res.text()}`);
            p.seq = ((await res.json()) as { seq: number }).seq;
            acked++;
            return check();
          }
        })(),
      );
    }
  }
  await Promise.all(posts);
  const postedIn = Date.now() - t0;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = await Promise.race([
    finished.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), GIVE_UP_MS))),
  ]);
  clearTimeout(timer);
  const rss = d.rss();
  sub.close();
  await d.kill('SIGTERM');

  const db = new Database(join(home, 'clawpod.db'), { readonly: true });
  const runs = db
    .prepare(
      "SELECT id, chat_jid AS chat, seq_start AS a, seq_end AS b, status FROM runs WHERE kind = 'message'",
    )
    .all() as Array<{ id: string; chat: string; a: number; b: number; status: string }>;
  const sent = new Map(
    (
      db
        .prepare("SELECT run_id AS run, sent_at AS at FROM outbox WHERE status = 'sent'")
        .all() as Array<{ run: string; at: number }>
    ).map((r) => [r.run, r.at]),
  );
  const storedTwice = db
    .prepare(
      "SELECT COALESCE(SUM(n - 1), 0) AS extra FROM (SELECT COUNT(*) AS n FROM messages WHERE direction = 'out' GROUP BY chat_jid, platform_id)",
    )
    .pluck()
    .get() as number;
  db.close();
  rmSync(home, { recursive: true, force: true });

  const ok = runs.filter((r) => r.status === 'ok');
  let answered = 0;
  let lost = 0;
  let consumedTwice = 0;
  const latencies: number[] = [];
  let lastReply = 0;
  for (const p of posted) {
    const by = ok.filter((r) => r.chat === p.chat && r.a <= p.seq! && p.seq! <= r.b);
    if (by.length === 0) {
      lost++;
      continue;
    }
    if (by.length > 1) consumedTwice += by.length - 1;
    const at = sent.get(by[0]!.id);
    if (at === undefined) continue; // consumed, reply not delivered: not answered
    answered++;
    latencies.push(at - p.postedAt);
    lastReply = Math.max(lastReply, at);
  }
  latencies.sort((a, b) => a - b);
  const total = lastReply ? (lastReply - t0) / 1000 : NaN;
  const duplicated = consumedTwice + storedTwice;
  const n = GROUPS * PER_GROUP;
  const label = `${GROUPS} groups × ${PER_GROUP}`;
  const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
  return [
    {
      name: `messages answered (${label}, command harness, bubblewrap)`,
      value: answered,
      unit: `of ${n}`,
      goal: `${n}`,
      met: answered === n,
    },
    { name: 'lost (202, never consumed)', value: lost, unit: '', goal: '0', met: lost === 0 },
    {
      name: 'duplicated (consumed by two ok runs, or a reply stored twice)',
      value: duplicated,
      unit: '',
      goal: '0',
      met: duplicated === 0,
    },
    { name: 'post → reply p50', value: round(percentile(latencies, 50) / 1000, 2), unit: 's' },
    {
      name: 'post → reply p99',
      value: round(percentile(latencies, 99) / 1000, 2),
      unit: 's',
    },
    {
      name: 'first post → last reply',
      value: round(total, 2),
      unit: 's',
      goal: '< 60 s (2 cores)',
      met: !gaveUp && answered === n && total < 60,
    },
    { name: 'all 1,000 posts acknowledged (202) in', value: round(postedIn / 1000, 2), unit: 's' },
    {
      name: 'posts sent again after a connection error (same id)',
      value: [...resent.values()].reduce((a, b) => a + b, 0),
      unit: [...resent].map(([why, k]) => `${why}: ${k}`).join(', '),
    },
    { name: 'turns (ok runs)', value: ok.length, unit: '' },
    { name: 'messages per turn (mean)', value: round(n / Math.max(1, ok.length)), unit: '' },
    {
      name: 'failed attempts (runs not ok)',
      value: runs.length - ok.length,
      unit: '',
    },
    { name: 'agent sessions started', value: sessionsStarted, unit: '' },
    {
      name: 'peak live agent sessions (in the pool)',
      value: peakPooled,
      unit: '',
      goal: '≤ 5 (limits.maxConcurrentRuns)',
      met: peakPooled <= 5,
    },
    { name: 'peak agent processes alive (closing ones too)', value: peakAlive, unit: '' },
    { name: 'daemon RSS after the load', value: round(rss.now), unit: 'MB' },
    { name: 'daemon RSS peak (VmHWM)', value: round(rss.peak), unit: 'MB' },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  printReport('clawpod load', await loadBench(), machineMeta());
}
