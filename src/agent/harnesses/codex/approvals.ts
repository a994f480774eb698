// zod/mini, like everything in the runner bundle (see runner-protocol.ts).
import * as z from 'zod/mini';
import type { RunnerEvent } from '../../../protocol/runner-protocol.js';
import type { ServerRequestAnswer } from './app-server-client.js';
import { unwrapShell } from './app-server-events.js';

/**
 * Codex's approval requests, answered by clawpod's guard: each becomes the IPC op
 * `approve_tool` (as the tool `Bash` with `{command, cwd}` for a command, `Edit` with
 * `{file_path}` for a file change), so the same guard rules that decide Claude's tool calls
 * decide Codex's, and the owner is asked when a rule says ask. The answer `{behavior: allow}`
 * becomes Codex's `accept`; anything else (deny, an error, no answer) becomes `decline`, which
 * Codex reports to the model as a rejected command.
 */

/** What asks the host (IpcClient.request's shape). */
export interface ApprovalAsker {
  request(
    op: 'approve_tool',
    args: Record<string, unknown>,
  ): Promise<{ ok: true; result: unknown } | { ok: false; error: { message: string } }>;
}

const commandParams = z.looseObject({
  command: z.optional(z.nullable(z.string())),
  cwd: z.optional(z.nullable(z.string())),
  reason: z.optional(z.nullable(z.string())),
});
const fileParams = z.looseObject({
  reason: z.optional(z.nullable(z.string())),
  grantRoot: z.optional(z.nullable(z.string())),
  itemId: z.optional(z.string()),
});
const allowSchema = z.looseObject({ behavior: z.literal('allow') });

/** Answers Codex's server requests; `note` receives log events for the turn. */
export class CodexApprovals {
  constructor(
    private readonly asker: ApprovalAsker,
    private readonly note: (ev: RunnerEvent) => void,
    /** Paths of a file-change item, by item id (from its item/started). */
    private readonly changedPaths: (itemId: string) => string[] = () => [],
  ) {}

  /** The answer to one server request (unknown methods get a JSON-RPC error). */
  async answer(method: string, params: unknown): Promise<ServerRequestAnswer> {
    switch (method) {
      case 'item/commandExecution/requestApproval': {
        const p = commandParams.safeParse(params);
        const command = unwrapShell((p.success && p.data.command) || '');
        const input = { command, ...(p.success && p.data.cwd ? { cwd: p.data.cwd } : {}) };
        return { result: { decision: await this.ask('Bash', input, `run \`${command}\``) } };
      }
      case 'item/fileChange/requestApproval': {
        const p = fileParams.safeParse(params);
        const paths = p.success && p.data.itemId ? this.changedPaths(p.data.itemId) : [];
        const target = paths[0] ?? (p.success ? p.data.grantRoot : null) ?? 'files';
        const input = { file_path: target, ...(paths.length > 1 ? { paths } : {}) };
        return { result: { decision: await this.ask('Edit', input, `edit ${target}`) } };
      }
      default:
        return {
          error: { code: -32601, message: `clawpod does not answer ${method} requests` },
        };
    }
  }

  private async ask(
    tool: string,
    input: Record<string, unknown>,
    what: string,
  ): Promise<'accept' | 'decline'> {
    this.note({ type: 'log', level: 'info', msg: `codex asks to ${what.slice(0, 200)}` });
    try {
      const answer = await this.asker.request('approve_tool', { tool, input });
      if (answer.ok && allowSchema.safeParse(answer.result).success) return 'accept';
      const why = answer.ok
        ? ((answer.result as { message?: unknown } | null)?.message ?? 'denied')
        : answer.error.message;
      this.note({ type: 'log', level: 'info', msg: `codex may not ${what}: ${String(why)}` });
    } catch (err) {
      this.note({
        type: 'log',
        level: 'warn',
        msg: `codex approval for ${what} got no answer (${(err as Error).message}); declined`,
      });
    }
    return 'decline';
  }
}
