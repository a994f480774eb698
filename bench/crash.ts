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
 * - SIGTERM while a send is in flight (Telegram took it; its answer comes once the daemon logs
 *   that it waits for deliveries in flight), then a restart;
 * - SIGTERM while the agent's command runs, then a restart.
 * Each trial then checks from the database that the fault hit its point (`hit`).
 * Lost: a message with a 202 whose marker no delivered reply carries. Duplicated: a message
 * whose marker two delivered replies carry, or that two `ok` runs consumed. A post cut by the
 * kill is sent again after the restart with the same id (stored once), as a client would.
 * `BENCH_CRASH_N` trials per cell (default 3); `BENCH_CRASH_CELLS=ing,mid` runs only those
 * cells; `BENCH_CRASH_KEEP=1` keeps each trial's data dir (logs, database) for a look.
 * Run alone: `node --import tsx bench/crash.ts` (after `npm run build`).
 */
import { readFileSync, rmSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { slackPlatform, telegramPlatform, type Platform } from './crash-platforms.js';
import { benchHome, DaemonChild } from './daemon-child.js';
import { CELLS, type Cell, type Snapshot } from './crash-cells.js';
import { machineMeta, printReport, type Figure } from './report.js';

const RECOVERY_MS = 60_000;
/** Longest wait for the event that times a fault. */
const STRIKE_MS = 60_000;
const MARK = /mk[0-9a-z]+x[0-9]+/g;

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
  /** Everything answered and nothing left to do within RECOVERY_MS. */
  settled: boolean;
}

/** `p`, or a rejection naming `what` after `ms`. */
async function within<T>(p: Promise<T>, what: string, ms = STRIKE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function trial(cell: Cell, platform: Platform, k: number): Promise<TrialResult> {
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

  // Every cell strikes after its posts were acknowledged (ingest: after the 5th).
  await within(acksReached, `${cell.id}: the posts' 202s`);
  if (cell.when === 'running') await within(running, `${cell.id}: the agent's command starting`);
  if (cell.when === 'held') await within(held, `${cell.id}: a send held at the platform`);
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
  proxy.release(); // answers held for a killed daemon go nowhere
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
  const settled = await within(done, '', RECOVERY_MS).then(
    () => true,
    () => false,
  );
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
  return { lost, duplicated, hit, settled };
}

export async function crashBench(): Promise<Figure[]> {
  const n = Number(process.env.BENCH_CRASH_N ?? 3);
  const platforms = { telegram: await telegramPlatform(), slack: await slackPlatform() };
  const figures: Figure[] = [];
  let lost = 0;
  let duplicated = 0;
  let trials = 0;
  let unsettled = 0;
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
      unsettled += results.filter((r) => !r.settled).length;
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
    {
      name: `trials not settled within ${RECOVERY_MS / 1000} s of the restart`,
      value: unsettled,
      unit: '',
      goal: '0',
      met: unsettled === 0,
    },
    { name: 'matrix wall time', value: Math.round((Date.now() - t0) / 100) / 10, unit: 's' },
  );
  return figures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  printReport('clawpod crash matrix', await crashBench(), machineMeta());
}
