import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StartRequest } from '../../../protocol/runner-protocol.js';
import { codexOptionsSchema } from './spec.js';
import { mountsNote } from '../mounts-note.js';

/**
 * The per-group CODEX_HOME (`/workspace/session/codex`): a `config.toml` generated for every run,
 * the global memory as `AGENTS.md`, and whatever Codex keeps there itself (threads for resume,
 * logs). It must not sit under TMPDIR: Codex refuses to install its helper binaries there.
 */

/** The model provider Codex talks to (always a custom one: the built-in OpenAI provider tries a WebSocket first). */
export interface CodexProvider {
  /** Shown in Codex's messages. */
  name: string;
  /** Base URL with its `/v1`; Codex appends `/responses`. */
  baseUrl: string;
  /** The variable holding the key Codex sends as `Authorization: Bearer`; null for a keyless server. */
  envKey: string | null;
  /** True for OpenAI itself (through OPENAI_BASE_URL): its prices apply. */
  isOpenAi: boolean;
}

export interface CodexSetup {
  codexHome: string;
  model: string | null;
  effort: string | null;
  provider: CodexProvider;
  /** How Codex starts the clawpod MCP server (stdio). */
  mcp: { command: string; args: string[]; ipcDir: string; sessionToken: string };
  /** Developer instructions added to Codex's own. */
  instructions: string;
  /**
   * Command prefixes Codex asks about before running (app-server mode, where the harness answers
   * approval requests); empty: Codex asks nothing (`approval_policy = "never"`).
   */
  askBefore: readonly string[];
}

/**
 * The approval policy: "never", or — when some commands must be asked about — only the asks
 * our rules file (rules/clawpod.rules) triggers. Codex's own sandbox stays off either way, so
 * no other approval (sandbox escalation, permissions, elicitations) can come up.
 */
export function approvalPolicy(askBefore: readonly string[]): string {
  if (askBefore.length === 0) return '"never"';
  return '{ granular = { sandbox_approval = false, rules = true, skill_approval = false, request_permissions = false, mcp_elicitations = false } }';
}

/** The execpolicy rules file: one `prompt` rule per command prefix (Starlark, read by Codex at start). */
export function renderRules(askBefore: readonly string[]): string {
  return [
    '# Written by clawpod before every run: edits here are overwritten.',
    ...askBefore.map(
      (prefix) =>
        `prefix_rule(pattern = [${prefix.split(' ').map(tomlString).join(', ')}], decision = "prompt")`,
    ),
    '',
  ].join('\n');
}

/** The provider for a run: the group's custom one (option `provider`), else OpenAI at OPENAI_BASE_URL. */
export function resolveProvider(
  start: StartRequest,
  env: Readonly<Record<string, string | undefined>>,
): CodexProvider {
  const openAiBase = withV1(env.OPENAI_BASE_URL || 'https://api.openai.com/v1');
  const custom = codexOptionsSchema.parse(start.harnessOptions ?? {}).provider;
  if (!custom) {
    return { name: 'OpenAI', baseUrl: openAiBase, envKey: 'OPENAI_API_KEY', isOpenAi: true };
  }
  // A path ("/upstream/ollama") is on the egress bridge (CLAWPOD_EGRESS_URL, else the origin
  // OPENAI_BASE_URL points at).
  const baseUrl = custom.baseUrl.startsWith('/')
    ? new URL(custom.baseUrl, env.CLAWPOD_EGRESS_URL || openAiBase).href.replace(/\/+$/, '')
    : custom.baseUrl.replace(/\/+$/, '');
  return { name: custom.name, baseUrl, envKey: custom.envKey, isOpenAi: false };
}

/** `http://h:p` → `http://h:p/v1` (OpenAI SDK convention); a URL with a path is kept. */
function withV1(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  try {
    return new URL(trimmed).pathname === '/' ? `${trimmed}/v1` : trimmed;
  } catch {
    return trimmed; // Codex reports the bad URL itself
  }
}

/** A TOML basic string: quotes, backslashes and control characters escaped. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s.replace(/[\uD800-\uDFFF]/gu, '\uFFFD')) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** Codex's retries of a failed model stream (see renderConfig). */
export const STREAM_RETRIES = 2;

/** The provider id in config.toml. */
export const PROVIDER_ID = 'clawpod';

/** Renders config.toml. Pure: the same setup gives the same text. */
export function renderConfig(setup: CodexSetup): string {
  const { provider, mcp } = setup;
  const lines = [
    '# Written by clawpod before every run: edits here are overwritten.',
    ...(setup.model ? [`model = ${tomlString(setup.model)}`] : []),
    ...(setup.effort ? [`model_reasoning_effort = ${tomlString(setup.effort)}`] : []),
    `model_provider = ${tomlString(PROVIDER_ID)}`,
    // clawpod's sandbox is the boundary; Codex's own would only get in the way.
    `approval_policy = ${approvalPolicy(setup.askBefore)}`,
    'sandbox_mode = "danger-full-access"',
    'check_for_update_on_startup = false',
    // A group folder made for claude has CLAUDE.md: read it when there is no AGENTS.md.
    'project_doc_fallback_filenames = ["CLAUDE.md"]',
    `developer_instructions = ${tomlString(setup.instructions)}`,
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[features]',
    // Plugins reach a code host at start.
    'plugins = false',
    // Otherwise an unreachable API is waited for without end ("waiting for network").
    'unbounded_connection_retries = false',
    '',
    `[model_providers.${PROVIDER_ID}]`,
    `name = ${tomlString(provider.name)}`,
    `base_url = ${tomlString(provider.baseUrl)}`,
    'wire_api = "responses"',
    ...(provider.envKey ? [`env_key = ${tomlString(provider.envKey)}`] : []),
    // Codex retries a failed stream, a refused key (401) included, 5 times by default (~7 s);
    // 2 keeps a blip survivable mid-turn and reports a bad key within ~1-2 s.
    `stream_max_retries = ${STREAM_RETRIES}`,
    '',
    '[mcp_servers.clawpod]',
    `command = ${tomlString(mcp.command)}`,
    `args = [${mcp.args.map(tomlString).join(', ')}]`,
    // clawpod's tools are gated by the host's guard already: Codex must not ask about them.
    'default_tools_approval_mode = "approve"',
    // A clawpod tool may wait for the owner (an approval, 10 min by default) or for a delegate
    // (up to delegation.maxTimeoutMs, 1 h); Codex's own 60 s default would cut those short.
    `tool_timeout_sec = ${MCP_TOOL_TIMEOUT_S}`,
    `env = { CLAWPOD_IPC_DIR = ${tomlString(mcp.ipcDir)}, CLAWPOD_SESSION_TOKEN = ${tomlString(mcp.sessionToken)} }`,
    '',
  ];
  return lines.join('\n');
}

/** Longest wait of a clawpod tool call Codex allows (the host answers well within it). */
const MCP_TOOL_TIMEOUT_S = 4 * 3600;

/** The developer instructions: how to reach the chat, schedule work and keep memory. */
export function codexInstructions(start: StartRequest, groupDir: string): string {
  const mounts = mountsNote(start);
  return [
    `You are ${start.assistantName}, a personal assistant people reach through chat (clawpod).`,
    'Your last message of each turn is sent to the chat as your reply; put anything not meant for the user inside <internal>…</internal>.',
    'For progress updates during long work, or to write to another chat, call the clawpod tool send_message.',
    "To do something later or repeatedly, use clawpod's schedule_task (and list_tasks, pause_task, resume_task, cancel_task, update_task): this sandbox ends after the conversation, so cron, at, sleep loops or background processes do not survive.",
    `Your folder ${groupDir} persists between conversations; keep what you must remember in ${groupDir}/AGENTS.md.`,
    ...(mounts ? [mounts] : []),
  ].join('\n');
}

/**
 * Writes CODEX_HOME for a run: config.toml (atomically) and the global memory as AGENTS.md
 * (Codex reads `$CODEX_HOME/AGENTS.md` as user-wide instructions) from `globalDir`'s AGENTS.md,
 * else its CLAUDE.md; removed when neither exists.
 */
export async function prepareCodexHome(setup: CodexSetup, globalDir: string): Promise<void> {
  await mkdir(setup.codexHome, { recursive: true, mode: 0o700 });
  const file = join(setup.codexHome, 'config.toml');
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, renderConfig(setup), { mode: 0o600 });
  await rename(tmp, file);
  const rules = join(setup.codexHome, 'rules', 'clawpod.rules');
  if (setup.askBefore.length > 0) {
    await mkdir(join(setup.codexHome, 'rules'), { recursive: true, mode: 0o700 });
    await writeFile(`${rules}.tmp`, renderRules(setup.askBefore), { mode: 0o600 });
    await rename(`${rules}.tmp`, rules);
  } else await rm(rules, { force: true });
  const memory = join(setup.codexHome, 'AGENTS.md');
  for (const name of ['AGENTS.md', 'CLAUDE.md']) {
    const source = join(globalDir, name);
    if (await isFile(source)) return copyFile(source, memory);
  }
  await rm(memory, { force: true });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
