/**
 * The cells of the crash matrix (bench/crash.ts): where the fault strikes, what times it, and
 * how a trial proves from the database that it hit that point.
 */
import type { Verdict } from './fault-proxy.js';

export type Fault = 'kill' | 'term' | 'agent';

/** What the database held when the fault struck (and, for kills, right after). */
export interface Snapshot {
  running: number;
  outbox: Array<{ status: string; text: string }>;
  runs: Array<{ status: string; error: string | null }>;
}

export interface Cell {
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

export const CELLS: Cell[] = [
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
