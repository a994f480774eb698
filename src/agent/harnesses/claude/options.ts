import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HookCallbackMatcher, HookEvent, Options } from '@anthropic-ai/claude-agent-sdk';
import type { StartRequest } from '../../../protocol/runner-protocol.js';
import { mcpServerPath } from '../../mcp/location.js';
import { mountsNote } from '../mounts-note.js';
import { askRules, type ToolPermissions } from './permissions.js';
import { CREDENTIAL_VARS, type ClaudeOptions } from './spec.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Claude Code's own session-scoped scheduling tools. They live and die with one Claude Code
 * process, which clawpod ends after an idle timeout, so a reminder set with them is silently
 * lost; scheduling goes through clawpod's `schedule_task` instead. `RemoteTrigger` schedules
 * work on Anthropic's cloud, outside clawpod's sandbox, ledger and chat delivery.
 */
export const DISALLOWED_TOOLS = [
  'CronCreate',
  'CronDelete',
  'CronList',
  'ScheduleWakeup',
  'RemoteTrigger',
] as const;

/** Failed requests are retried this often before a turn fails (Claude Code's default is 10). */
export const MAX_RETRIES = '2';

/** Where things are inside the sandbox; each can be moved by env for tests and the `none` runtime. */
export interface ClaudePaths {
  /** The group folder: cwd, CLAUDE.md memory, .claude/skills, conversations/. */
  workdir: string;
  /** Shared knowledge: CLAUDE.md and .claude/skills, when the folder exists. */
  globalDir: string;
  ipcDir: string;
  /** HOME, with Claude Code's config and transcripts in `<home>/.claude`. */
  home: string;
  configDir: string;
  /** `node <mcpMain>` is the clawpod MCP server. */
  mcpMain: string;
}

export function claudePaths(env: Env): ClaudePaths {
  const home = env.HOME ?? '/workspace/session';
  return {
    workdir: env.CLAWPOD_WORKDIR ?? '/workspace/group',
    globalDir: env.CLAWPOD_GLOBAL_DIR ?? '/workspace/global',
    ipcDir: env.CLAWPOD_IPC_DIR ?? '/workspace/ipc',
    home,
    configDir: join(home, '.claude'),
    mcpMain: env.CLAWPOD_MCP_MAIN ?? mcpServerPath(),
  };
}

/** Names the missing credential, or undefined when one is set. */
export function credentialProblem(env: Env): string | undefined {
  if (CREDENTIAL_VARS.some((v) => env[v])) return undefined;
  return (
    'No Claude credential: set ANTHROPIC_API_KEY (an Anthropic API key) or ' +
    'CLAUDE_CODE_OAUTH_TOKEN (from `claude setup-token`) in the environment or ' +
    "clawpod's .env, then restart clawpod."
  );
}

/**
 * The environment of the Claude Code process: the runner's own (PATH, TZ, the base URL and
 * the credential placeholder the host gave it) plus quiet, fast-failing defaults.
 */
export function claudeEnv(
  env: Env,
  paths: ClaudePaths,
  options: ClaudeOptions,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  Object.assign(out, {
    HOME: paths.home,
    CLAUDE_CONFIG_DIR: paths.configDir,
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: env.CLAUDE_CODE_MAX_RETRIES ?? MAX_RETRIES,
    // CLAUDE.md of additional directories (/workspace/global) is memory too.
    CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD: '1',
    CLAUDE_AGENT_SDK_CLIENT_APP: 'clawpod',
  });
  if (options.agentTeams) out.CLAUDE_CODE_EXPERIMENTAL_AGENT_TEAMS = '1';
  return out;
}

/** What the agent is told about clawpod, appended to Claude Code's own system prompt. */
export function systemPromptAppend(start: StartRequest, paths: ClaudePaths): string {
  const lines = [
    `# clawpod`,
    `You are ${start.assistantName}, an always-on assistant hosted by clawpod. This conversation belongs to the group "${start.group}"${start.isMain ? ", the owner's main admin chat" : ''}; you run in its sandbox.`,
    '- Messages arrive as <messages><message sender="…" time="…">…</message></messages>. Your reply text is sent to the chat as written.',
    '- Wrap private reasoning in <internal>…</internal>: clawpod removes it before sending. A reply that is only <internal> sends nothing.',
    '- To send something while you keep working (progress, partial results), call mcp__clawpod__send_message.',
    `- To do something later or repeatedly, call mcp__clawpod__schedule_task (cron, interval or a one-time ISO time; time zone ${start.timezone}); manage tasks with list_tasks, pause_task, resume_task, update_task and cancel_task. This session ends when the chat goes quiet, so nothing else can remind you later.`,
    `- ${paths.workdir} is your folder for this group and persists between conversations; its CLAUDE.md is your memory: keep facts worth remembering there.`,
    `- ${paths.globalDir} holds knowledge shared by all groups${start.isMain ? '' : ' (read-only here)'}.`,
  ];
  const mounts = mountsNote(start);
  if (mounts) lines.push(`- ${mounts}`);
  if (start.isMain)
    lines.push('- As main you may also list and register groups (list_groups, register_group).');
  return lines.join('\n');
}

export interface OptionInputs {
  start: StartRequest;
  /** The group's claude options (parsed from the start request). */
  options: ClaudeOptions;
  env: Env;
  paths: ClaudePaths;
  abortController: AbortController;
  resume: string | null;
  hooks: Partial<Record<HookEvent, HookCallbackMatcher[]>>;
  stderr: (data: string) => void;
  /** The permission callback (tool calls the guard may ask about go to the host). */
  permissions: ToolPermissions;
}

/** The `query()` options for one live Claude Code process. */
export function buildOptions(i: OptionInputs): Options {
  const { start, paths, options } = i;
  // The group's mounted host folders are working directories too (file tools reach them).
  const additionalDirectories = [
    ...(existsSync(paths.globalDir) ? [paths.globalDir] : []),
    ...(start.mounts ?? []).map((m) => m.path),
  ];
  return {
    abortController: i.abortController,
    cwd: paths.workdir,
    env: claudeEnv(i.env, paths, options),
    resume: i.resume ?? undefined,
    model: start.model ?? undefined,
    effort: options.effort,
    // The sandbox bounds what a tool can reach; within it, the host's guard decides the calls
    // that act (its rules, the turn's taint, the owner's answer) through this callback.
    permissionMode: 'default',
    canUseTool: i.permissions.canUseTool,
    disallowedTools: [...DISALLOWED_TOOLS],
    // Project settings: the group's CLAUDE.md, .claude/settings.json, skills and agents.
    settingSources: ['project'],
    additionalDirectories,
    systemPrompt: {
      type: 'preset',
      preset: 'claude_code',
      append: systemPromptAppend(start, paths),
    },
    mcpServers: {
      clawpod: {
        type: 'stdio',
        command: process.execPath,
        args: [paths.mcpMain],
        env: { CLAWPOD_IPC_DIR: paths.ipcDir, CLAWPOD_SESSION_TOKEN: start.sessionToken },
        // Otherwise the tools sit behind tool search and the model may not find them.
        alwaysLoad: true,
      },
    },
    mcpServersDelivery: 'initialize',
    settings: {
      // Flag settings rank above the group's .claude/settings.json (which the agent can write):
      // an ask rule there sends the acting tools to the callback whatever an allow rule says.
      permissions: { ask: askRules(start.guardedTools ?? []) },
      // Teammates run inside this process: there is no terminal multiplexer in the sandbox.
      ...(options.agentTeams ? { teammateMode: 'in-process' as const } : {}),
    },
    hooks: i.hooks,
    stderr: i.stderr,
    // Text deltas as they are written (the harness reports them as `partial` events).
    includePartialMessages: true,
  };
}
