import type { Group } from '../store/group-schema.js';
import type { RunnerEvent, TurnInput } from '../protocol/runner-protocol.js';

/** What the host asks a launcher for: one agent process serving one agent session. */
export interface SessionSpec {
  /** The agent session's id (`ses_…`), for logs and the sandbox name. */
  sessionId: string;
  /** The session's IPC capability (see StartRequest.sessionToken). */
  sessionToken: string;
  group: Group;
  /** Harness in effect (the group's, else the configured default). */
  harness: string;
  model: string | null;
  /** The harness's conversation to resume; null for a fresh one (isolated tasks, first run). */
  resumeId: string | null;
  timezone: string;
  assistantName: string;
  /** Hard end of the process's life (the sandbox's wall time), ms. */
  maxLifeMs: number;
}

/**
 * A live agent process speaking the runner protocol: a sandboxed runner, or a test double.
 * Contract: `events` yields every runner event in order and ends when the process is gone
 * (an abnormal end is reported as a final `error` event first); `send` hands one turn's input
 * and returns false when the process can no longer take one; `close` asks it to end after its
 * current turn; `kill` ends it at once.
 */
export interface AgentProcess {
  readonly events: AsyncIterable<RunnerEvent>;
  send(input: TurnInput): boolean;
  close(): void;
  kill(reason: string): void;
}

/** Why a launcher cannot start a group's agent right now, phrased as what the user must do. */
export interface LaunchProblem {
  message: string;
}

/**
 * Starts agent processes for one harness. The sandbox launcher provides one per built-in
 * harness; tests and CLAWPOD_LAUNCHER_MODULE may add others.
 */
export interface AgentLauncher {
  readonly harness: string;
  /** Optional async preparation before `problem` (e.g. probing a sandbox runtime once). */
  prepare?(group: Group): Promise<void>;
  /** Fast check before a session starts: credentials, binaries. Undefined when ready. */
  problem(group: Group): LaunchProblem | undefined;
  start(spec: SessionSpec): AgentProcess;
}

/** Harness name → launcher. */
export class LauncherRegistry {
  private readonly launchers = new Map<string, AgentLauncher>();

  register(launcher: AgentLauncher): void {
    this.launchers.set(launcher.harness, launcher);
  }

  get(harness: string): AgentLauncher | undefined {
    return this.launchers.get(harness);
  }

  names(): string[] {
    return [...this.launchers.keys()];
  }
}
