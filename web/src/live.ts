import { useEffect, useState } from 'preact/hooks';
import { authHeaders, getToken } from './api.js';
import type { MessageView, RunProgress, RunRecord } from './types.js';

/** The event stream's state, shown in the header; never a spinner without an end. */
export type LinkState =
  | { name: 'connecting' }
  | { name: 'live' }
  | { name: 'retrying'; inMs: number; reason: string }
  | { name: 'refused'; reason: string };

/** What a running run is doing now (from progress events; never stored). */
export interface LiveRun {
  text: string;
  tool: { name: string; summary: string } | null;
  steps: number;
}

type Listener = () => void;

/**
 * The app's live state, fed by `GET /api/events`: the link state, runs as they start and end,
 * what each running run is writing, and new messages (per chat listeners). Reconnects with
 * `Last-Event-ID`, so stored events resume without gap or duplicate; progress is not replayed,
 * and the final message arrives as a stored one.
 */
class Live {
  link: LinkState = { name: 'connecting' };
  readonly runs = new Map<string, RunRecord>();
  readonly progress = new Map<string, LiveRun>();
  private readonly listeners = new Set<Listener>();
  private readonly messageListeners = new Set<(m: MessageView) => void>();
  /** Bumped on every `approval` event (asked or decided): views reload their list on change. */
  approvalsChanged = 0;
  private lastId: string | undefined;
  private ctl: AbortController | undefined;
  private backoff = 1000;
  private timer: ReturnType<typeof setTimeout> | undefined;

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onMessage(fn: (m: MessageView) => void): () => void {
    this.messageListeners.add(fn);
    return () => this.messageListeners.delete(fn);
  }

  private changed(): void {
    this.listeners.forEach((fn) => fn());
  }

  start(): void {
    if (this.ctl) return;
    void this.connect();
  }

  stop(): void {
    this.ctl?.abort();
    this.ctl = undefined;
    clearTimeout(this.timer);
  }

  /** Seeds the run table (the runs list loads them; events keep them fresh). */
  seed(runs: RunRecord[]): void {
    for (const r of runs)
      if (!this.runs.has(r.id) || r.status !== 'running') this.runs.set(r.id, r);
    this.changed();
  }

  private setLink(link: LinkState): void {
    this.link = link;
    this.changed();
  }

  private async connect(): Promise<void> {
    const ctl = new AbortController();
    this.ctl = ctl;
    this.setLink({ name: 'connecting' });
    try {
      const res = await fetch('/api/events', {
        headers: { ...authHeaders(), ...(this.lastId ? { 'last-event-id': this.lastId } : {}) },
        signal: ctl.signal,
      });
      if (res.status === 401) {
        this.setLink({ name: 'refused', reason: 'the API token was refused' });
        this.ctl = undefined;
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      await this.read(res.body);
      throw new Error('the daemon closed the stream');
    } catch (err) {
      if (ctl.signal.aborted) return;
      const reason = err instanceof Error ? err.message : String(err);
      const inMs = this.backoff;
      this.backoff = Math.min(this.backoff * 2, 15_000);
      this.setLink({ name: 'retrying', inMs, reason });
      this.timer = setTimeout(() => {
        if (this.ctl === ctl) void this.connect();
      }, inMs);
    }
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let event = 'message';
        let data = '';
        let id: string | undefined;
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
          else if (line.startsWith('id:')) id = line.slice(3).trim();
        }
        if (id) this.lastId = id;
        this.dispatch(event, data);
      }
    }
  }

  private dispatch(event: string, data: string): void {
    let payload: unknown;
    try {
      payload = JSON.parse(data || '{}');
    } catch {
      return;
    }
    if (event === 'ready') {
      this.backoff = 1000;
      this.setLink({ name: 'live' });
    } else if (event === 'message') {
      const m = payload as MessageView;
      this.messageListeners.forEach((fn) => fn(m));
    } else if (event === 'run') {
      const r = payload as RunRecord;
      this.runs.set(r.id, r);
      if (r.status !== 'running') this.progress.delete(r.id);
      this.changed();
    } else if (event === 'approval') {
      this.approvalsChanged++;
      this.changed();
    } else if (event === 'progress') {
      const p = payload as RunProgress;
      const live = this.progress.get(p.runId) ?? { text: '', tool: null, steps: 0 };
      if (p.kind === 'partial') live.text += p.text;
      else if (p.kind === 'tool') {
        live.tool = { name: p.name, summary: p.summary };
        live.steps++;
      }
      this.progress.set(p.runId, { ...live });
      this.changed();
    }
  }
}

export const live = new Live();

/** Re-renders the calling component whenever the live state changes. */
export function useLive(): Live {
  const [, tick] = useState(0);
  useEffect(() => live.subscribe(() => tick((n) => n + 1)), []);
  return live;
}

export const hasToken = (): boolean => Boolean(getToken());
