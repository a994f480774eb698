/**
 * Delegation end to end with the REAL harnesses in REAL bubblewrap sandboxes: a Claude agent
 * (fake Anthropic API) calls the clawpod `delegate` tool; the delegate is a Codex group (fake
 * OpenAI API) or another Claude group, each in a sandbox, session and run of its own.
 *
 * Needs bubblewrap, a built dist/ and both harness packages; skipped with the reason otherwise.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import {
  answeredTool,
  reply as claude,
  startFakeAnthropic,
  toolResults,
  type FakeAnthropic,
  type MessagesRequest,
} from '../fakes/anthropic-server.js';
import {
  reply as codex,
  startFakeOpenAi,
  toolOutputs,
  userTexts,
  type FakeOpenAi,
  type ResponsesRequest,
} from '../fakes/openai-server.js';
import { TEST_MODEL } from '../support/claude-world.js';
import { nextMessage, say } from '../support/daemon-harness.js';
import { bootHarnessDaemon, harnessSandboxSkip } from '../support/harness-e2e.js';

const skipWhy = harnessSandboxSkip({ codex: true });

const CODEX_MODEL = 'gpt-5.5';
const DELEGATE = 'mcp__clawpod__delegate';

let anthropic: FakeAnthropic;
let openai: FakeOpenAi;
let d: Daemon;
let home: string;

/** What each Claude agent does, by a word of the prompt that started its turn. */
const claudeScripts: Array<[RegExp, (req: MessagesRequest) => ReturnType<typeof claude.text>]> = [];
/** What the Codex agent does, by a word of its prompt. */
const codexScripts: Array<[RegExp, (req: ResponsesRequest) => ReturnType<typeof codex.text>]> = [];

beforeAll(async () => {
  if (skipWhy) return;
  anthropic = await startFakeAnthropic();
  openai = await startFakeOpenAi();
  anthropic.setScript((req) => {
    const text = lastPrompt(req);
    const hit = claudeScripts.find(([re]) => re.test(text));
    return hit ? hit[1](req) : claude.text('nothing scripted');
  });
  openai.setScript((req) => {
    const text = userTexts(req).join('\n');
    const hit = codexScripts.find(([re]) => re.test(text));
    return hit ? hit[1](req) : codex.text('nothing scripted');
  });
  ({ d, home } = await bootHarnessDaemon('claude', TEST_MODEL, {
    ANTHROPIC_API_KEY: 'sk-ant-api03-delegation-e2e-key-0001',
    ANTHROPIC_BASE_URL: anthropic.url,
    OPENAI_API_KEY: 'sk-proj-delegation-e2e-key-0002',
    OPENAI_BASE_URL: openai.baseUrl,
  }));
  d.groups.add({ name: 'coder', harness: 'codex', model: CODEX_MODEL, delegates: ['deep'] });
  d.groups.add({ name: 'deep', delegates: ['deeper'] });
  d.groups.add({ name: 'deeper' });
  d.groups.add({ name: 'team', chats: ['web:team'], requiresTrigger: false });
  d.groups.add({ name: 'secret' });
  // The owner says yes whenever a non-main group asks to delegate (the default rule: ask).
  d.bus.on('approval', (a) => {
    if (a.status === 'pending' && a.kind === 'delegate') d.guard.answer(a.id, 'once', 'owner');
  });
}, 120_000);
afterAll(async () => {
  if (skipWhy) return;
  await d.stop();
  await anthropic.close();
  await openai.close();
});

/** The prompt of the turn a request belongs to: the last user message with text. */
function lastPrompt(req: MessagesRequest): string {
  for (const m of [...req.messages].reverse()) {
    if (m.role !== 'user') continue;
    const text =
      typeof m.content === 'string'
        ? m.content
        : m.content
            .filter((b) => b.type === 'text')
            .map((b) => (b as { text: string }).text)
            .join('\n');
    if (text.trim()) return text;
  }
  return '';
}

const outIn = (chat: string) => (m: { direction: string; chatId: string; text: string }) =>
  m.direction === 'out' && m.chatId === chat && !/^(🔐|⏳|✅)/u.test(m.text);

/** Sends `text` to `chat`; resolves with the agent's next reply there. */
async function ask(chat: string, text: string): Promise<string> {
  const out = nextMessage(d, outIn(chat));
  await say(d, chat, text);
  return (await out).text;
}

/** A Claude turn that calls delegate with `args`, then replies with the tool's result. */
const delegating =
  (args: Record<string, unknown>) =>
  (req: MessagesRequest): ReturnType<typeof claude.text> =>
    answeredTool(req) === DELEGATE
      ? claude.text(`RESULT ${toolResults(req).join(' | ')}`)
      : claude.tool(DELEGATE, args);

describe.skipIf(Boolean(skipWhy))(
  `delegate with the real harnesses in bubblewrap${skipWhy ? ` (skipped: ${skipWhy})` : ''}`,
  () => {
    it('a Claude agent delegates to a codex group and gets its answer and files as the tool result', async () => {
      claudeScripts.unshift([
        /plan-and-code/,
        delegating({ group: 'coder', prompt: 'implement the adder (codex-task-1)' }),
      ]);
      codexScripts.unshift([
        /codex-task-1/,
        (req) => {
          if (toolOutputs(req).length === 0) {
            const id = /delegation (dlg_\w+)/.exec(userTexts(req).join('\n'))![1];
            return codex.shell(
              `printf 'export const add = (a, b) => a + b;\\n' > /workspace/group/handoff/${id}/add.ts`,
            );
          }
          return codex.text('adder implemented in add.ts');
        },
      ]);
      const text = await ask('web:main', 'plan-and-code please');
      expect(text).toMatch(/^RESULT /);
      expect(text).toContain('adder implemented in add.ts');
      const child = d.store.runs.list({ group: 'coder' })[0]!;
      expect(child).toMatchObject({ kind: 'delegate', status: 'ok' });
      const parent = d.store.runs.get(child.parentRunId!)!;
      expect(parent.group).toBe('main');
      const dlg = d.store.delegations.byRun(child.id)!;
      expect(text).toContain(`/workspace/group/handoff/${dlg.id}/add.ts`);
      expect(readFileSync(join(home, 'groups/main/handoff', dlg.id, 'add.ts'), 'utf8')).toBe(
        'export const add = (a, b) => a + b;\n',
      );
      expect(child.usage.inputTokens).toBeGreaterThan(0);
      expect(d.store.agentSessions.list({ group: 'coder' })[0]).toMatchObject({
        harness: 'codex',
        lane: `delegate:${dlg.id}`,
      });
    });

    it('a fan-out of 3 parallel delegates finishes with 3 child runs', async () => {
      claudeScripts.unshift([
        /fan-out-three/,
        (req) =>
          answeredTool(req) === DELEGATE
            ? claude.text(`RESULT ${toolResults(req).length} results`)
            : {
                content: [1, 2, 3].map((n) => ({
                  type: 'tool_use' as const,
                  name: DELEGATE,
                  input: { group: 'coder', prompt: `fan-part-${n}` },
                })),
              },
      ]);
      codexScripts.unshift([
        /fan-part-(\d)/,
        (req) => codex.text(`part ${/fan-part-(\d)/.exec(userTexts(req).join('\n'))![1]} done`),
      ]);
      const text = await ask('web:main', 'fan-out-three');
      expect(text).toBe('RESULT 3 results');
      const parent = d.store.runs.list({ group: 'main' })[0]!;
      const children = d.store.runs.children(parent.id);
      expect(children).toHaveLength(3);
      expect(children.every((c) => c.status === 'ok' && c.group === 'coder')).toBe(true);
    });

    it('refuses a non-main group delegating outside its list, naming the setting', async () => {
      claudeScripts.unshift([
        /outside-the-list/,
        delegating({ group: 'secret', prompt: 'read the secrets' }),
      ]);
      const text = await ask('web:team', 'outside-the-list');
      expect(text).toContain('forbidden: group "team" may not delegate to "secret"');
      expect(text).toContain('delegates');
      expect(text).toContain('clawpod groups set team delegates=secret');
      expect(d.store.runs.list({ group: 'secret' })).toEqual([]);
    });

    it('refuses depth 3: main → coder (codex) → deep (claude) → deeper', async () => {
      claudeScripts.unshift([
        /depth-chain-main/,
        delegating({ group: 'coder', prompt: 'depth-chain-1' }),
      ]);
      codexScripts.unshift([
        /depth-chain-1/,
        (req) =>
          toolOutputs(req).length === 0
            ? codex.mcp('clawpod', 'delegate', { group: 'deep', prompt: 'depth-chain-2' })
            : codex.text(
                `CODEX GOT ${toolOutputs(req)
                  .map((o) => o.output)
                  .join(' | ')}`,
              ),
      ]);
      claudeScripts.unshift([
        /depth-chain-2/,
        delegating({ group: 'deeper', prompt: 'depth-chain-3' }),
      ]);
      const text = await ask('web:main', 'depth-chain-main');
      expect(text).toContain('depth_limit');
      expect(text).toContain('delegation.maxDepth (2)');
      expect(d.store.runs.list({ group: 'deeper' })).toEqual([]);
      const deep = d.store.runs.list({ group: 'deep' })[0]!;
      const coder = d.store.runs.get(deep.parentRunId!)!;
      expect(coder.group).toBe('coder');
      expect(d.store.runs.get(coder.parentRunId!)!.group).toBe('main');
    });

    it('a delegate that fails reports its error to the caller', async () => {
      claudeScripts.unshift([
        /make-it-fail/,
        delegating({ group: 'coder', prompt: 'codex-will-fail' }),
      ]);
      codexScripts.unshift([
        /codex-will-fail/,
        () => codex.error(400, 'invalid_request_error', 'the model exploded on purpose'),
      ]);
      const text = await ask('web:main', 'make-it-fail');
      expect(text).toContain('delegate_failed');
      expect(text).toMatch(/delegate_failed: delegation dlg_\w+ to group "coder" failed/);
      const failed = d.store.runs.list({ group: 'coder' })[0]!;
      expect(failed.status).not.toBe('ok');
    });

    it('wait:false answers at once; the result arrives later as a new turn in the chat', async () => {
      claudeScripts.unshift([
        /\[Result of delegation/,
        () => claude.text('LATER the report came back'),
      ]);
      claudeScripts.unshift([
        /later-please/,
        delegating({ group: 'coder', prompt: 'codex-report-later', wait: false }),
      ]);
      codexScripts.unshift([/codex-report-later/, () => codex.text('the quarterly report')]);
      const later = nextMessage(d, (m) => outIn('web:main')(m) && m.text.startsWith('LATER'));
      const first = await ask('web:main', 'later-please');
      expect(first).toContain('"status": "started"');
      expect((await later).text).toBe('LATER the report came back');
      const inbound = d.store.messages
        .listChat('web:main', 0)
        .find((m) => m.sender === 'delegate:coder')!;
      expect(inbound.text).toContain('the quarterly report');
    });
  },
);
