/**
 * Crash matrix (runs issue): a real `bin/clawpod start` (command harness in bubblewrap) is hurt
 * at one point of a message's path, restarted on the same data dir, and left to recover; then
 * every message that got its 202 must have been answered at the chat platform exactly once.
 *
 * Each trial has its own data dir and chat. The group's command writes
 * `/workspace/group/running` when it starts (the host sees it through inotify), optionally
 * sleeps, then answers with the markers of the messages its turn saw (`mk…x<i>`), so the
 * platform's record tells which message each reply answers. Cells (the fault, and the event
 * that times it — never a sleep that hopes):
 * - kill -9 at ingest: when the 5th of 20 posts (4 in flight) got its 202;
 * - kill -9 mid-run: when the agent's command started (it sleeps 1 s);
 * - kill -9 after the reply was committed, before delivery: the platform proxy holds the send
 *   without forwarding it;
 * - kill -9 during delivery: the platform took the send, its answer is held (Telegram, whose
 *   Bot API cannot look a sent message up; and Slack, which can);
 * - SIGKILL of the sandbox (bwrap) while the agent's command runs (the daemon lives on);
 * - SIGTERM while the agent's command runs, then a restart.
 * Each trial then checks from the database that the fault hit its point (`hit`).
 * Lost: a message with a 202 whose marker no delivered reply carries. Duplicated: a message
 * whose marker two delivered replies carry, or that two `ok` runs consumed. A post cut by the
 * kill is sent again after the restart with the same id (stored once), as a client would.
 * `BENCH_CRASH_N` trials per cell (default 2). Run alone: `node --import tsx bench/crash.ts`
 * (after `npm run build`).
 */
import { readFileSync, rmSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { slackPlatform, telegramPlatform, type Platform } from './crash-platforms.js';
import { benchHome, DaemonChild } from './daemon-child.js';
import type { Verdict } from './fault-proxy.js';
import { machineMeta, printReport, type Figure } from './report.js';

const RECOVERY_MS = 60_000;
const MARK = /mk[0-9a-z]+x[0-9]+/g;

type Fault = 'kill' | 'term' | 'agent';

/** What the database held when the fault struck (and, for kills, right after). */
interface Snapshot {
  running: number;
  outbox: Array<{ status: string; text: string }>;
  runs: Array<{ status: string; error: string | null }>;
}

interface Cell {
  /** Letters only: part of the markers. */
  id: string;
  name: string;
  platform: 'telegram' | 'slack';
  messages: number;
  /** How long the agent's command sleeps after it started. */
  sleepS: number;
  /** What strikes the fault: the n-th 202, the agent's command starting, or a held send. */
  when: { acks: number } | 'running' | 'held';
  /** The proxy's verdict on sends until the fault. */
  send?: Verdict;
  fault: Fault;
  /** Release a held send answer when the daemon logs this line (a platform answering late). */
  releaseOn?: string;
  /** Whether the fault hit the point the cell names. */
  hit(t: { at: Snapshot; after: Snapshot; delivered: string[]; inFlightAtFault: number }): boolean;
}

const atPlatform = (delivered: string[], text: string) => delivered.includes(text.trim());

const CELLS: Cell[] = [
  {
    id: 'ing',
    name: 'kill -9 at ingest (posts in flight)',
    platform: 'telegram',
    messages: 20,
    sleepS: 0,
    when: { acks: 5 },
    fault: 'kill',
    hit: ({ inFlightAtFault }) => inFlightAtFault > 0,
  },
  {
    id: 'mid',
    name: 'kill -9 mid-run (agent command running)',
    platform: 'telegram',
    messages: 3,
    sleepS: 1,
    when: 'running',
    fault: 'kill',
    hit: ({ after }) => after.running > 0,
  },
  {
    id: 'com',
    name: 'kill -9 after the reply committed, before delivery',
    platform: 'telegram',
    messages: 3,
    sleepS: 0,
    when: 'held',
    send: 'drop',
    fault: 'kill',
    hit: ({ after, delivered }) =>
      after.outbox.some((o) => o.status === 'sending' && !atPlatform(delivered, o.text)),
  },
  {
    id: 'dtg',
    name: 'kill -9 during delivery (Telegram took it; no look-up: at-least-once)',
    platform: 'telegram',
    messages: 3,
    sleepS: 0,
    when: 'held',
    send: 'hold-answer',
    fault: 'kill',
    hit: ({ after, delivered }) =>
      after.outbox.some((o) => o.status === 'sending' && atPlatform(delivered, o.text)),
  },
  {
    id: 'dsl',
    name: 'kill -9 during delivery (Slack took it; looked up)',
    platform: 'slack',
    messages: 3,
    sleepS: 0,
    when: 'held',
    send: 'hold-answer',
    fault: 'kill',
    hit: ({ after, delivered }) =>
      after.outbox.some((o) => o.status === 'sending' && atPlatform(delivered, o.text)),
  },
  {
    id: 'agt',
    name: 'SIGKILL of the sandbox (bwrap) mid-run',
    platform: 'telegram',
    messages: 3,
    sleepS: 1,
    when: 'running',
    fault: 'agent',
    hit: ({ at, after }) =>
      at.running > 0 &&
      after.runs.some(
        (r) => r.status === 'error' && /sandbox ended abnormally/.test(r.error ?? ''),
      ),
  },
  {
    id: 'tsd',
    name: 'SIGTERM during delivery (Telegram answers once the daemon waits)',
    platform: 'telegram',
    messages: 3,
    sleepS: 0,
    when: 'held',
    send: 'hold-answer',
    fault: 'term',
    releaseOn: 'stopping: waiting for deliveries in flight',
    hit: ({ at, delivered }) =>
      at.outbox.some((o) => o.status === 'sending' && atPlatform(delivered, o.text)),
  },
  {
    id: 'trm',
    name: 'SIGTERM mid-run, then restart',
    platform: 'telegram',
    messages: 3,
    sleepS: 1,
    when: 'running',
    fault: 'term',
    hit: ({ at }) => at.running > 0,
  },
];

function snapshot(home: string, chat: string): Snapshot {
  const db = new Database(join(home, 'clawpod.db'), { readonly: true });
  try {
    return {
      running: db
        .prepare("SELECT COUNT(*) FROM runs WHERE status = 'running'")
        .pluck()
        .get() as number,
      outbox: db
        .prepare('SELECT status, text FROM outbox WHERE chat_jid = ? ORDER BY id')
        .all(chat) as Snapshot['outbox'],
      runs: db
        .prepare('SELECT status, error FROM runs WHERE chat_jid = ? ORDER BY started_at')
        .all(chat) as Snapshot['runs'],
    };
  } finally {
    db.close();
  }
}

/** Nothing left to do: no reply waiting, no run in flight, no waking message unconsumed. */
function quiet(home: string): boolean {
  const db = new Database(join(home, 'clawpod.db'), { readonly: true });
  try {
    const n = db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending'))
              + (SELECT COUNT(*) FROM runs WHERE status = 'running')
              + (SELECT COUNT(*) FROM messages m JOIN chat_cursors c ON c.chat_jid = m.chat_jid
                   WHERE m.seq > c.seq AND m.wakes = 1 AND m.direction = 'in')`,
      )
      .pluck()
      .get() as number;
    return n === 0;
  } finally {
    db.close();
  }
}

/** Ok runs of `chat` covering each of its inbound messages, keyed by marker. */
function consumption(home: string, chat: string): Map<string, number> {
  const db = new Database(join(home, 'clawpod.db'), { readonly: true });
  try {
    const ranges = db
      .prepare("SELECT seq_start AS a, seq_end AS b FROM runs WHERE chat_jid = ? AND status = 'ok'")
      .all(chat) as Array<{ a: number; b: number }>;
    const msgs = db
      .prepare("SELECT seq, text FROM messages WHERE chat_jid = ? AND direction = 'in'")
      .all(chat) as Array<{ seq: number; text: string }>;
    const out = new Map<string, number>();
    for (const m of msgs) {
      const mark = m.text.match(MARK)?.[0];
      if (mark) out.set(mark, ranges.filter((r) => r.a <= m.seq && m.seq <= r.b).length);
    }
    return out;
  } finally {
    db.close();
  }
}

interface TrialResult {
  lost: number;
  duplicated: number;
  hit: boolean;
  ms: number;
}

async function trial(cell: Cell, platform: Platform, k: number): Promise<TrialResult> {
  const t0 = Date.now();
  const chat = platform.chat(k);
  const home = benchHome(
    'crash',
    `http: { port: 0 }\ndefaults: { harness: command }\n${platform.configYaml}`,
    platform.dotenv,
  );
  const proxy = platform.proxy;
  proxy.decide = () => 'pass';
  let d = await DaemonChild.start(home);
  const command =
    `echo go > /workspace/group/running; ${cell.sleepS ? `sleep ${cell.sleepS}; ` : ''}` +
    `grep -o 'mk[0-9a-z]*x[0-9]*' | sort -u | tr '\\n' ' '`;
  const made = await d.api('/api/groups', {
    method: 'POST',
    body: { name: 'crash', chats: [chat], requiresTrigger: false, command },
  });
  if (made.status !== 201) throw new Error(`group: ${made.status} ${await made.text()}`);

  // The events that time the fault.
  let commandStarted!: () => void;
  const running = new Promise<void>((r) => (commandStarted = r));
  const watcher = watch(join(home, 'groups', 'crash'), (_e, name) => {
    if (name === 'running') commandStarted();
  });
  let sendHeld!: () => void;
  const held = new Promise<void>((r) => (sendHeld = r));
  let stopped = false;
  proxy.decide = (req) =>
    !stopped && cell.send && platform.isSend(req.path) ? ((stopped = true), cell.send) : 'pass';
  proxy.onStop = () => sendHeld();

  // Posting: `messages` posts, 4 in flight; the ones cut by the fault go again after it.
  const marks = Array.from({ length: cell.messages }, (_, i) => `mk${cell.id}${k}x${i}`);
  const acked = new Set<string>();
  let nthAck!: () => void;
  const acksReached = new Promise<void>((r) => (nthAck = r));
  const ackTarget = typeof cell.when === 'object' ? cell.when.acks : cell.messages;
  let inFlight = 0;
  const post = async (daemon: DaemonChild, mark: string): Promise<boolean> => {
    inFlight++;
    const res = await daemon
      .api('/api/messages', {
        method: 'POST',
        body: { chat, text: `please answer ${mark}`, id: `id-${mark}` },
      })
      .catch(() => undefined)
      .finally(() => inFlight--);
    if (res?.status !== 202) return false;
    acked.add(mark);
    if (acked.size >= ackTarget) nthAck();
    return true;
  };
  let next = 0;
  const posting = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < marks.length) if (!(await post(d, marks[next++]!))) return;
    }),
  );

  await acksReached; // every cell strikes after its posts were acknowledged (ingest: the 5th)
  if (cell.when === 'running') await running;
  if (cell.when === 'held') await held;
  const at = snapshot(home, chat);
  const inFlightAtFault = inFlight;
  if (cell.fault === 'agent') {
    for (const pid of d.children()) {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm === 'bwrap') process.kill(pid, 'SIGKILL');
    }
  } else {
    // A platform that answers late: the held answer goes on once the daemon began to stop.
    if (cell.releaseOn) {
      const line = cell.releaseOn;
      void d.nextLog((l) => l.msg === line).then(() => proxy.release());
    }
    await d.kill(cell.fault === 'kill' ? 'SIGKILL' : 'SIGTERM');
  }
  await posting;
  const deliveredAtFault = platform.delivered(chat);
  proxy.decide = () => 'pass';
  let after = at;
  if (cell.fault !== 'agent') {
    after = snapshot(home, chat);
    d = await DaemonChild.start(home);
  }
  for (const mark of marks) if (!acked.has(mark)) await post(d, mark);

  // Recovery: every acknowledged message answered at the platform, and nothing left to do.
  let recovered!: () => void;
  const done = new Promise<void>((r) => (recovered = r));
  const check = () => {
    const seen = new Set(platform.delivered(chat).flatMap((t) => t.match(MARK) ?? []));
    if ([...acked].every((m) => seen.has(m)) && quiet(home)) recovered();
  };
  proxy.onPassed = check;
  const sub = await d.events(check);
  check();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((r) => (timer = setTimeout(r, RECOVERY_MS)))]);
  clearTimeout(timer);
  sub.close();
  proxy.onPassed = () => undefined;
  watcher.close();
  await d.kill('SIGTERM');

  const final = snapshot(home, chat);
  const delivered = platform.delivered(chat);
  const answers = new Map<string, number>();
  for (const text of delivered)
    for (const m of new Set(text.match(MARK) ?? [])) answers.set(m, (answers.get(m) ?? 0) + 1);
  const consumed = consumption(home, chat);
  const lost = marks.filter((m) => acked.has(m) && !answers.get(m)).length;
  const duplicated = marks.filter(
    (m) => (answers.get(m) ?? 0) > 1 || (consumed.get(m) ?? 0) > 1,
  ).length;
  const hit = cell.hit({
    at,
    after: cell.fault === 'agent' ? final : after,
    delivered: deliveredAtFault,
    inFlightAtFault,
  });
  if (!process.env.BENCH_CRASH_KEEP) rmSync(home, { recursive: true, force: true });
  return { lost, duplicated, hit, ms: Date.now() - t0 };
}

export async function crashBench(): Promise<Figure[]> {
  const n = Number(process.env.BENCH_CRASH_N ?? 2);
  const platforms = { telegram: await telegramPlatform(), slack: await slackPlatform() };
  const figures: Figure[] = [];
  let lost = 0;
  let duplicated = 0;
  let trials = 0;
  const t0 = Date.now();
  try {
    const only = process.env.BENCH_CRASH_CELLS?.split(',');
    for (const cell of CELLS.filter((c) => !only || only.includes(c.id))) {
      const results: TrialResult[] = [];
      for (let i = 0; i < n; i++)
        results.push(await trial(cell, platforms[cell.platform], trials++));
      const l = results.reduce((s, r) => s + r.lost, 0);
      const dup = results.reduce((s, r) => s + r.duplicated, 0);
      const hits = results.filter((r) => r.hit).length;
      lost += l;
      duplicated += dup;
      figures.push(
        { name: `${cell.name}: lost`, value: l, unit: `(${n} trials)`, goal: '0', met: l === 0 },
        { name: `${cell.name}: duplicated`, value: dup, unit: '', goal: '0', met: dup === 0 },
        {
          name: `${cell.name}: fault hit its point`,
          value: hits,
          unit: `of ${n}`,
          goal: `${n}`,
          met: hits === n,
        },
      );
    }
  } finally {
    await platforms.telegram.close();
    await platforms.slack.close();
  }
  figures.push(
    { name: 'total lost', value: lost, unit: `(${trials} trials)`, goal: '0', met: lost === 0 },
    { name: 'total duplicated', value: duplicated, unit: '', goal: '0', met: duplicated === 0 },
    { name: 'matrix wall time', value: Math.round((Date.now() - t0) / 100) / 10, unit: 's' },
  );
  return figures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  printReport('clawpod crash matrix', await crashBench(), machineMeta());
}
