import type { CanUseTool, PermissionResult } from '@anthropic-ai/claude-agent-sdk';
import type { ResponseFile } from '../../../protocol/ipc-answers.js';

/**
 * Claude Code tools that only read, plan or delegate (a subagent's own tool calls come back
 * through the callback): the sandbox bounds what they can see, so they are allowed here without
 * a round trip to the host, unless a rule of the group names them (`guardedTools`).
 * clawpod's own MCP tools are guarded on the host where they act (src/guard/ipc-gate.ts):
 * asking twice would show the owner two cards for one action.
 */
export const LOCAL_TOOLS: ReadonlySet<string> = new Set([
  'Read',
  'Glob',
  'Grep',
  'LS',
  'NotebookRead',
  'TodoWrite',
  'Task',
  'Agent',
  'TaskOutput',
  'BashOutput',
  'KillShell',
  'KillBash',
  'TaskStop',
  'ToolSearch',
  'ListMcpResourcesTool',
  'ReadMcpResourceTool',
  'Skill',
  'EnterPlanMode',
  'ExitPlanMode',
]);
const CLAWPOD_MCP_PREFIX = 'mcp__clawpod__';

/**
 * Tools that act on the world. They are put in Claude Code's `permissions.ask` (flag settings,
 * above the group's own `.claude/settings.json`), so an allow rule the agent writes there, or a
 * command Claude Code itself thinks harmless, still reaches the callback and so the host.
 */
export const ACTING_TOOLS = [
  'Bash',
  'Write',
  'Edit',
  'MultiEdit',
  'NotebookEdit',
  'WebFetch',
  'WebSearch',
] as const;

/** Sends `approve_tool` to the host and resolves with its (final) answer. */
export type ApproveToolRequest = (args: {
  tool: string;
  input: Record<string, unknown>;
}) => Promise<ResponseFile>;

/** `*` in a tool-name pattern is any run of characters; the whole name must match. */
function nameMatcher(patterns: readonly string[]): (tool: string) => boolean {
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ),
  );
  return (tool) => res.some((re) => re.test(tool));
}

/**
 * The Claude permission callback: every tool call the guard could ask about goes to the host
 * as `approve_tool` (which may wait for the owner); read-only tools and clawpod's own are
 * allowed at once unless a rule names them. Fails closed: a host that cannot be reached, or an
 * answer that cannot be read, is a deny with a message the model sees.
 */
export class ToolPermissions {
  private readonly guarded: (tool: string) => boolean;

  constructor(
    private readonly ask: ApproveToolRequest,
    /** Tool-name patterns the host named (StartRequest.guardedTools); absent: none. */
    guardedTools: readonly string[] = [],
  ) {
    this.guarded = nameMatcher(guardedTools);
  }

  /** Whether a call of `tool` goes to the host (false: allowed here, no round trip). */
  needsHost(tool: string): boolean {
    if (this.guarded(tool)) return true;
    return !LOCAL_TOOLS.has(tool) && !tool.startsWith(CLAWPOD_MCP_PREFIX);
  }

  readonly canUseTool: CanUseTool = async (tool, input, { toolUseID, signal }) => {
    if (!this.needsHost(tool)) return { behavior: 'allow', updatedInput: input, toolUseID };
    let answer: ResponseFile;
    try {
      // A stopped turn stops waiting for the owner (the approval itself stays on the host).
      answer = await Promise.race([this.ask({ tool, input }), abortion(signal)]);
    } catch (err) {
      return deny(
        `clawpod could not ask the host whether ${tool} may run (${(err as Error).message}); not run`,
        toolUseID,
      );
    }
    if (!answer.ok) return deny(answer.error.message, toolUseID);
    const r = answer.result as { behavior?: unknown; message?: unknown } | null;
    if (r?.behavior === 'allow') return { behavior: 'allow', updatedInput: input, toolUseID };
    if (r?.behavior === 'deny')
      return deny(typeof r.message === 'string' ? r.message : `${tool} was denied`, toolUseID);
    return deny(`clawpod's answer about ${tool} could not be read; not run`, toolUseID);
  };
}

/**
 * Claude Code's `permissions.ask` rules: the acting tools and the tools the host named, so their
 * calls reach the callback whatever the permission mode or an allow rule would say.
 */
export function askRules(guardedTools: readonly string[] = []): string[] {
  return [...new Set([...ACTING_TOOLS, ...guardedTools.filter((t) => !t.includes('*'))])];
}

/** Rejects when `signal` aborts (never settles otherwise). */
function abortion(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new Error('the turn was stopped'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

const deny = (message: string, toolUseID: string): PermissionResult => ({
  behavior: 'deny',
  message,
  toolUseID,
});
