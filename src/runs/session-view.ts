import type { AgentSession } from './agent-session.js';

/** A live agent session as status and the API show it. */
export interface SessionView {
  id: string;
  group: string;
  lane: string;
  harness: string;
  state: 'idle' | 'busy' | 'closing' | 'closed';
  startedAt: number;
  /** Idle: since when. */
  idleSince: number | null;
  /** Busy: the run it is answering. */
  runId: string | null;
  /** The chat of the turn it is answering (or last answered). */
  chat: string | null;
}

export function sessionView(s: AgentSession): SessionView {
  const st = s.state;
  return {
    id: s.id,
    group: s.meta.group,
    lane: s.meta.lane,
    harness: s.meta.harness,
    state: st.name,
    startedAt: s.startedAt,
    idleSince: st.name === 'idle' ? st.since : null,
    runId: st.name === 'busy' ? (s.context?.runId ?? null) : null,
    chat: s.context?.chat ?? null,
  };
}
