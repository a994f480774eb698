/**
 * The fake Discord gateway (a WebSocket on the fake server's `/gateway`, JSON encoding, no
 * compression): HELLO (op 10), heartbeat → ACK (op 11), IDENTIFY (op 2) → READY and one
 * GUILD_CREATE per guild, RESUME (op 6) → the dispatches the session missed, then RESUMED; an
 * unknown or ended session gets INVALID_SESSION (op 9). A wrong token closes with 4004; with
 * `refusePrivilegedIntents`, asking for Message Content closes with 4014.
 * Sessions outlive their socket (so a dropped client can resume) unless the client itself closed
 * with 1000/1001, which ends a session on Discord too.
 */
import type { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { snowflake, type Json } from './discord-payloads.js';

const MESSAGE_CONTENT = 1 << 15;

interface Session {
  id: string;
  seq: number;
  events: Array<{ s: number; t: string; d: Json }>;
  socket: WebSocket | null;
  dead: boolean;
}

export interface GatewayOptions {
  server: Server;
  token: string;
  /** Emits `connection`, `identify` (count so far) and `resume` (count so far). */
  events: EventEmitter;
  /** The dispatches a fresh session starts with: READY, then GUILD_CREATEs. */
  hello(sessionId: string): Array<{ t: string; d: Json }>;
}

export class FakeGateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, Session>();
  readonly identifies: Array<{ intents: number }> = [];
  resumes = 0;
  /** Answer an IDENTIFY asking for Message Content with 4014, as for a bot not allowed it. */
  refusePrivilegedIntents = false;

  constructor(private readonly opts: GatewayOptions) {
    this.wss = new WebSocketServer({ server: opts.server, path: '/gateway' });
    this.wss.on('connection', (ws) => this.onSocket(ws));
  }

  /** Sockets open right now (one per connected client). */
  get openSockets(): number {
    return [...this.wss.clients].filter((ws) => ws.readyState === ws.OPEN).length;
  }

  /** Sends an event to every live session (kept for the replay of disconnected ones). */
  dispatch(t: string, d: Json, only?: Session): void {
    for (const s of only ? [only] : this.sessions.values()) {
      if (s.dead) continue;
      const ev = { s: ++s.seq, t, d };
      s.events.push(ev);
      if (s.socket) this.send(s.socket, { op: 0, ...ev });
    }
  }

  /** Closes every socket from the server side; 4000 ("unknown error") lets clients resume. */
  dropConnections(code: number): void {
    for (const s of this.sessions.values()) {
      s.socket?.close(code, 'fake drop');
      s.socket = null;
    }
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }

  private send(ws: WebSocket, payload: Json): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(payload));
  }

  private onSocket(ws: WebSocket): void {
    this.opts.events.emit('connection');
    let session: Session | undefined;
    this.send(ws, { op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null });
    ws.on('close', (code) => {
      if (session?.socket !== ws) return;
      session.socket = null;
      if (code === 1000 || code === 1001) session.dead = true;
    });
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: Json };
      if (msg.op === 1) this.send(ws, { op: 11 });
      else if (msg.op === 2) session = this.identify(ws, msg.d);
      else if (msg.op === 6) session = this.resume(ws, msg.d) ?? session;
    });
  }

  private identify(ws: WebSocket, d: Json): Session | undefined {
    if (d.token !== this.opts.token) {
      ws.close(4004, 'Authentication failed.');
      return undefined;
    }
    this.identifies.push({ intents: d.intents as number });
    if (this.refusePrivilegedIntents && ((d.intents as number) & MESSAGE_CONTENT) !== 0) {
      ws.close(4014, 'Disallowed intent(s).');
      return undefined;
    }
    const session: Session = { id: snowflake(), seq: 0, events: [], socket: ws, dead: false };
    this.sessions.set(session.id, session);
    for (const ev of this.opts.hello(session.id)) this.dispatch(ev.t, ev.d, session);
    this.opts.events.emit('identify', this.identifies.length);
    return session;
  }

  private resume(ws: WebSocket, d: Json): Session | undefined {
    const known = this.sessions.get(d.session_id as string);
    if (!known || known.dead || d.token !== this.opts.token) {
      this.send(ws, { op: 9, d: false });
      return undefined;
    }
    known.socket = ws;
    this.resumes++;
    for (const ev of known.events.filter((e) => e.s > (d.seq as number)))
      this.send(ws, { op: 0, ...ev });
    this.dispatch('RESUMED', {}, known);
    this.opts.events.emit('resume', this.resumes);
    return known;
  }
}
