/**
 * The Claude permission callback with the REAL Agent SDK and Claude Code binary against the
 * fake Anthropic API: which tool calls ask the host (`approve_tool` over the IPC folder), what
 * the model sees when the host allows or denies, and that the group's own settings file cannot
 * route a call around the host.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClaudeHarness } from '../../src/agent/harnesses/claude/harness.js';
import type { RunnerEvent } from '../../src/protocol/runner-protocol.js';
import {
  answeredTool,
  isToolRound,
  reply,
  startFakeAnthropic,
  toolResults,
  type FakeAnthropic,
} from '../fakes/anthropic-server.js';
import { claudeWorld, MCP_MAIN } from '../support/claude-world.js';

let fake: FakeAnthropic;
const harnesses: ClaudeHarness[] = [];
const hosts: Array<{ stop(): void }> = [];
beforeAll(async () => {
  if (!existsSync(MCP_MAIN)) throw new Error(`${MCP_MAIN} is missing: run npm run build first`);
  fake = await startFakeAnthropic();
});
afterAll(() => fake.close());
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
  for (const h of hosts.splice(0)) h.stop();
  fake.requests.length = 0;
});

async function turn(
  world: ReturnType<typeof claudeWorld>,
  prompt: string,
  over = {},
): Promise<RunnerEvent[]> {
  const h = new ClaudeHarness(world.start(over), world.env);
  harnesses.push(h);
  const out: RunnerEvent[] = [];
  for await (const ev of h.turn(prompt, null, new AbortController().signal)) out.push(ev);
  return out;
}

interface Req {
  op: string;
  args: { tool?: string; input?: Record<string, unknown> };
}

/** A model that calls `tool` with `input` once, then says what the tool result was. */
function callOnce(tool: string, input: Record<string, unknown>): void {
  fake.setScript((req) =>
    isToolRound(req)
      ? reply.text(`RESULT: ${toolResults(req).join(' | ')}`)
      : reply.tool(tool, input),
  );
}

const finalText = (evs: RunnerEvent[]) =>
  evs
    .filter((e): e is Extract<RunnerEvent, { type: 'message' }> => e.type === 'message')
    .map((e) => e.text)
    .join('\n');

describe('claude tool calls ask the host (real Claude Code, fake model)', () => {
  it('sends an acting tool call to the host with every argument, and runs it when allowed', async () => {
    const world = claudeWorld(fake.url);
    const host = world.answerIpc();
    hosts.push(host);
    callOnce('Bash', { command: 'echo RAN-$((6*7))', description: 'say hi' });
    const evs = await turn(world, 'run it');
    expect(evs.at(-1)?.type).toBe('result');
    expect(host.requests).toEqual([
      expect.objectContaining({
        op: 'approve_tool',
        args: { tool: 'Bash', input: { command: 'echo RAN-$((6*7))', description: 'say hi' } },
      }),
    ]);
    expect(finalText(evs)).toContain('RAN-42');
  });

  it('does not run a denied call: the model gets the message, the turn ends with a result', async () => {
    const world = claudeWorld(fake.url);
    const host = world.answerIpc((op) =>
      op === 'approve_tool'
        ? { behavior: 'deny', message: 'clawpod guard: the owner denied approval #7' }
        : { delivered: true },
    );
    hosts.push(host);
    const marker = join(world.group, 'must-not-exist.txt');
    callOnce('Bash', { command: `touch ${marker}` });
    const evs = await turn(world, 'run it');
    expect(evs.filter((e) => e.type === 'error')).toEqual([]);
    expect(evs.at(-1)?.type).toBe('result');
    expect(finalText(evs)).toContain('the owner denied approval #7');
    expect(existsSync(marker)).toBe(false);
    expect(host.requests).toHaveLength(1);
  });

  it('answers read-only tools and clawpod’s own tools without asking the host; acting ones ask', async () => {
    const world = claudeWorld(fake.url);
    writeFileSync(join(world.group, 'note.txt'), 'NOTE-BODY\n');
    const host = world.answerIpc();
    hosts.push(host);
    fake.setScript((req) => {
      switch (answeredTool(req)) {
        case undefined:
          return reply.tool('Read', { file_path: join(world.group, 'note.txt') });
        case 'Read':
          return reply.tool('Grep', { pattern: 'NOTE', path: world.group });
        case 'Grep':
          return reply.tool('mcp__clawpod__send_message', { text: 'progress' });
        case 'mcp__clawpod__send_message':
          return reply.tool('Bash', { command: 'true' });
        default:
          return reply.text('done');
      }
    });
    const evs = await turn(world, 'read it');
    expect(evs.at(-1)?.type).toBe('result');
    // Only the acting call (Bash, last) asked; clawpod's own tool went straight to its op.
    expect((host.requests as Req[]).map((r) => [r.op, r.args.tool])).toEqual([
      ['send_message', undefined],
      ['approve_tool', 'Bash'],
    ]);
  });

  it('asks the host for a read-only tool a rule names (guardedTools)', async () => {
    const world = claudeWorld(fake.url);
    writeFileSync(join(world.group, 'note.txt'), 'NOTE-BODY\n');
    const host = world.answerIpc();
    hosts.push(host);
    callOnce('Read', { file_path: join(world.group, 'note.txt') });
    const evs = await turn(world, 'read it', { guardedTools: ['Read'] });
    expect(evs.at(-1)?.type).toBe('result');
    expect((host.requests as Req[]).map((r) => [r.op, r.args.tool])).toEqual([
      ['approve_tool', 'Read'],
    ]);
  });

  it('still asks when the group’s own .claude/settings.json allows the tool (agent-writable)', async () => {
    const world = claudeWorld(fake.url);
    mkdirSync(join(world.group, '.claude'), { recursive: true });
    writeFileSync(
      join(world.group, '.claude/settings.json'),
      JSON.stringify({
        permissions: { allow: ['Bash', 'Bash(*)', 'Write'], defaultMode: 'bypassPermissions' },
      }),
    );
    const host = world.answerIpc((op) =>
      op === 'approve_tool' ? { behavior: 'deny', message: 'DENIED-BY-HOST' } : {},
    );
    hosts.push(host);
    const marker = join(world.group, 'bypassed.txt');
    callOnce('Bash', { command: `touch ${marker}` });
    const evs = await turn(world, 'run it');
    expect(finalText(evs)).toContain('DENIED-BY-HOST');
    expect(existsSync(marker)).toBe(false);
    expect((host.requests as Req[]).map((r) => r.args.tool)).toEqual(['Bash']);
  });
});
