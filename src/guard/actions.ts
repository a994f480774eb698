/**
 * The privileged actions the guard decides on, each with everything a human needs to judge it
 * (the full effect, never a summary that hides an argument), the subject a rule names, and a
 * key that makes the same question asked twice one approval.
 */
import { createHash } from 'node:crypto';
import { guardActionKinds } from '../config/schema.js';
import { toolLines } from './tool-card.js';

/** Every kind of action the guard knows (defined with the config that names them). */
export const actionKinds = guardActionKinds;
export type ActionKind = (typeof actionKinds)[number];

/** A request from a sandbox to a host not on its group's list (CONNECT shows host:port only). */
export interface EgressAction {
  kind: 'egress';
  host: string;
  port: number;
  /** Plain-HTTP requests only: an HTTPS tunnel hides them from the proxy. */
  method?: string;
  path?: string;
}
/** A Claude tool call (phase 2: the SDK's permission callback), with every argument. */
export interface ToolAction {
  kind: 'tool';
  tool: string;
  input: Record<string, unknown>;
}
/** A codex command (phase 2: its approval requests). */
export interface CommandAction {
  kind: 'command';
  command: string;
  cwd?: string;
}
/** `send_message` to a chat other than the conversation's. */
export interface SendMessageAction {
  kind: 'send_message';
  chat: string;
  text: string;
  file?: string;
}
/** `schedule_task` (tool or task file) that fires more often than the daily limit. */
export interface ScheduleTaskAction {
  kind: 'schedule_task';
  group: string;
  schedule: string;
  description: string;
  timezone: string;
  prompt: string;
  /** Fires in the next 24 hours. */
  firesPerDay: number;
  /** The next 3 fire times, ISO with the zone's offset. */
  next: string[];
  /** Per run and per month, from the group's last runs; null: unknown. */
  expectedUsd: { perRun: number; perMonth: number } | null;
}
export interface RegisterGroupAction {
  kind: 'register_group';
  name: string;
  chat: string;
}
export interface DelegateAction {
  kind: 'delegate';
  group: string;
  prompt: string;
}
/** A run that would cross a budget cap. */
export interface BudgetAction {
  kind: 'budget';
  scope: 'group' | 'task';
  ref: string;
  period: 'daily' | 'monthly';
  unit: 'usd' | 'tokens';
  cap: number;
  spent: number;
  /** The expected cost of the run (mean of the last ones); null: unknown. */
  expected: number | null;
  /** What `always` raises the cap to. */
  raiseTo: number;
}
/** A message from a sender the group does not know (policy `ask`). */
export interface SenderAction {
  kind: 'sender';
  chat: string;
  sender: string;
  senderName: string | null;
  /** The first words of the message, so the owner sees who is knocking. */
  preview: string;
  /** The seq of the first held message (admitted from there on approval). */
  seq: number;
}

export type GuardAction =
  | EgressAction
  | ToolAction
  | CommandAction
  | SendMessageAction
  | ScheduleTaskAction
  | RegisterGroupAction
  | DelegateAction
  | BudgetAction
  | SenderAction;

const money = (usd: number) => `$${usd < 0.01 && usd > 0 ? usd.toFixed(4) : usd.toFixed(2)}`;
const amount = (unit: 'usd' | 'tokens', n: number) =>
  unit === 'usd' ? money(n) : `${Math.round(n).toLocaleString('en-US')} tokens`;

/** What a rule for this action names (egress `host:port`, a tool pattern's subject…). */
export function subjectOf(a: GuardAction): string {
  switch (a.kind) {
    case 'egress':
      return `${a.host}:${a.port}`;
    case 'tool':
      return a.tool;
    case 'command':
      return a.command;
    case 'send_message':
      return a.chat;
    case 'schedule_task':
      return a.schedule;
    case 'register_group':
      return a.name;
    case 'delegate':
      return a.group;
    case 'budget':
      return `${a.scope}:${a.ref}:${a.period}:${a.unit}`;
    case 'sender':
      return a.sender;
  }
}

/** One line naming the action (lists, logs). */
export function summaryOf(a: GuardAction): string {
  switch (a.kind) {
    case 'egress':
      return `connect to ${a.host}:${a.port}${a.method ? ` (${a.method} ${a.path ?? '/'})` : ''}`;
    case 'tool':
      return `use ${a.tool}`;
    case 'command':
      return `run \`${a.command}\``;
    case 'send_message':
      return `send a message to ${a.chat}`;
    case 'schedule_task':
      return `schedule a task ${a.description} (${a.firesPerDay}× a day)`;
    case 'register_group':
      return `register group "${a.name}" for ${a.chat}`;
    case 'delegate':
      return `delegate to group "${a.group}"`;
    case 'budget':
      return `run over the ${a.period} ${a.unit === 'usd' ? 'USD' : 'token'} budget of ${a.scope} "${a.ref}"`;
    case 'sender':
      return `let ${a.sender} talk to the group`;
  }
}

/**
 * The full effect as a human reads it: every argument, nothing hidden. Lines, without the
 * header or the answer syntax. `limit`: a tool argument longer than this is cut, saying so and
 * giving its length (chat cards); absent: every value whole.
 */
export function effectLines(a: GuardAction, limit?: number): string[] {
  switch (a.kind) {
    case 'egress':
      return [
        `Host: ${a.host}`,
        `Port: ${a.port}`,
        a.method
          ? `Request: ${a.method} ${a.path ?? '/'}`
          : 'Request: an encrypted tunnel (HTTPS): the path and method are not visible to clawpod',
      ];
    case 'tool':
      return toolLines(a, { limit });
    case 'command':
      return [`Command: ${a.command}`, ...(a.cwd ? [`In: ${a.cwd}`] : [])];
    case 'send_message':
      return [
        `To chat: ${a.chat}`,
        ...(a.file ? [`File: ${a.file}`] : []),
        'Text:',
        ...a.text.split('\n').map((l) => `  ${l}`),
      ];
    case 'schedule_task':
      return [
        `Group: ${a.group}`,
        `Schedule: ${a.schedule} — ${a.description}`,
        `Fires: ${a.firesPerDay} times in the next 24 hours`,
        `Next: ${a.next.join(', ') || 'none'}`,
        `Expected cost: ${a.expectedUsd ? `${money(a.expectedUsd.perRun)} a run, ${money(a.expectedUsd.perMonth)} a month` : 'unknown (no runs of this group yet)'}`,
        'Prompt:',
        ...a.prompt.split('\n').map((l) => `  ${l}`),
      ];
    case 'register_group':
      return [`Group: ${a.name}`, `Chat: ${a.chat}`];
    case 'delegate':
      return [`To group: ${a.group}`, 'Prompt:', ...a.prompt.split('\n').map((l) => `  ${l}`)];
    case 'budget':
      return [
        `${a.scope === 'group' ? 'Group' : 'Task'}: ${a.ref}`,
        `${a.period === 'daily' ? 'Daily' : 'Monthly'} cap: ${amount(a.unit, a.cap)}; spent: ${amount(a.unit, a.spent)}`,
        `This run: ${a.expected === null ? 'unknown cost' : `about ${amount(a.unit, a.expected)}`}`,
        `yes: run it this once · always: raise the cap to ${amount(a.unit, a.raiseTo)} · no: skip it`,
      ];
    case 'sender':
      return [
        `Sender: ${a.sender}${a.senderName ? ` (shown as "${a.senderName}")` : ''}`,
        `Chat: ${a.chat}`,
        `Message: ${a.preview}`,
      ];
  }
}

/**
 * Same group, same kind, same full effect → same key: a re-run asking the same thing (after a
 * restart, say) waits on the pending approval instead of asking twice.
 */
export function dedupeKey(group: string, a: GuardAction): string {
  const effect =
    a.kind === 'sender'
      ? { chat: a.chat, sender: a.sender } // one pairing per sender and chat, whatever they say
      : a.kind === 'budget'
        ? { scope: a.scope, ref: a.ref, period: a.period, unit: a.unit }
        : a;
  const h = createHash('sha256').update(JSON.stringify(effect)).digest('hex').slice(0, 32);
  return `${group}:${a.kind}:${h}`;
}
