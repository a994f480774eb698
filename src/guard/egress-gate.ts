/**
 * The egress proxy's side of the guard: a destination on no list is held while the owner is
 * asked (the sandbox's request simply waits), `always` puts the host on the group's list
 * (stored, merged with config `egress.groups`), a deny or silence answers the 403 it always
 * did. Every destination reached taints the turn that reached it (web content is untrusted).
 */
import type { EgressGuard } from '../egress/credential-proxy.js';
import type { Guard } from './guard.js';

/** The turn a session is answering now, if any (the session pool knows). */
export type SessionTurn = (sessionId: string) => { runId: string; chat: string } | undefined;

export function egressGuard(guard: Guard, turnOf: SessionTurn): EgressGuard {
  return {
    entries: (group) => guard.egressEntries(group),
    async ask(req) {
      const turn = turnOf(req.session);
      const asked = guard.request(
        {
          kind: 'egress',
          host: req.host,
          port: req.port,
          ...(req.method ? { method: req.method, path: req.path ?? '/' } : {}),
        },
        { group: req.group, runId: turn?.runId ?? null, chat: turn?.chat ?? null },
      );
      if (asked.verdict === 'allow') return { allowed: true };
      if (asked.verdict === 'deny') return { allowed: false, message: asked.message };
      const o = await asked.decided;
      return o.allowed ? { allowed: true } : { allowed: false, message: o.message };
    },
    reached(req) {
      const turn = turnOf(req.session);
      if (turn)
        guard.taint.add(turn.runId, [`this turn fetched content from ${req.host}:${req.port}`]);
    },
  };
}
