import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { SessionSpec } from '../../src/runs/agent-process.js';
import type { ApprovalRecord } from '../../src/store/approvals.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

const root = resolve(import.meta.dirname, '../..');
let d: Daemon;
let client: Client;
let release!: () => void;

/**
 * The real MCP server, as a harness starts it inside a live session: the team group has two
 * chats, and the session is answering a message from the second one while the tools are used.
 */
beforeAll(async () => {
  const home = tempHome();
  const hold = new Promise<void>((r) => (release = r));
  let turnStarted!: (spec: SessionSpec) => void;
  const started = new Promise<SessionSpec>((r) => (turnStarted = r));
  const launcher = scriptedLauncher(async ({ spec }) => {
    turnStarted(spec);
    await hold;
    return reply('done');
  });
  d = await startDaemon(home, [launcher]);
  d.groups.add({ name: 'team', chats: ['web:team', 'web:team2'] });
  d.ipc.ensureGroup('team');
  await d.router.receive({
    chatId: 'web:team2',
    platformId: 'q1',
    sender: 'carol',
    text: '@Andy use your tools',
    ts: Date.now(),
  });
  const spec = await started;
  client = new Client({ name: 'test', version: '1' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [join(root, 'dist/agent-bundle/mcp.cjs')], // the bundle a sandbox runs
      env: {
        CLAWPOD_IPC_DIR: join(home, 'ipc', 'team'),
        CLAWPOD_SESSION_TOKEN: spec.sessionToken,
        PATH: process.env.PATH ?? '',
      },
    }),
  );
});
afterAll(async () => {
  release();
  await client.close();
  await d.stop();
});

const text = (r: Awaited<ReturnType<Client['callTool']>>) =>
  (r.content as Array<{ type: string; text: string }>).map((c) => c.text).join('\n');

describe('clawpod MCP server over IPC', () => {
  it('offers the clawpod tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'send_message',
        'schedule_task',
        'list_tasks',
        'pause_task',
        'resume_task',
        'cancel_task',
        'update_task',
        'list_groups',
        'register_group',
        'search_history',
        'remember',
        'consolidate_memory',
      ]),
    );
  });

  it("search_history answers the group's own history as JSON", async () => {
    const res = await client.callTool({ name: 'search_history', arguments: { query: 'tools' } });
    expect(res.isError).toBeFalsy();
    const body = JSON.parse(text(res)) as { hits: Array<{ chat: string; snippet: string }> };
    expect(body.hits[0]).toMatchObject({ chat: 'web:team2', snippet: '@Andy use your **tools**' });
    const bad = await client.callTool({ name: 'search_history', arguments: { query: '---' } });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/^invalid_query: nothing to search for/);
  });

  it('send_message goes to the chat of the conversation being answered, not the first chat', async () => {
    const delivered = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:team2');
    const res = await client.callTool({
      name: 'send_message',
      arguments: { text: 'from the tool' },
    });
    expect(res.isError).toBeFalsy();
    expect(text(res)).toContain('"chat": "web:team2"');
    expect((await delivered).text).toBe('from the tool');
  });

  it('another chat of the group asks the owner first: the real client waits, then it goes', async () => {
    const delivered = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:team');
    const asked = new Promise<ApprovalRecord>((r) => d.bus.once('approval', r));
    const call = client.callTool({
      name: 'send_message',
      arguments: { text: 'to the other chat', chat: 'web:team' },
    });
    const a = await asked;
    expect(a).toMatchObject({ kind: 'send_message', status: 'pending', askedIn: 'web:main' });
    expect(a.taint).toEqual([
      'this turn read a message from carol (member), and any file it carried',
    ]);
    await d.router.receive({
      chatId: 'web:main',
      platformId: `answer-${a.id}`,
      sender: 'owner',
      text: `yes ${a.id}`,
      ts: Date.now(),
    });
    const res = await call;
    expect(res.isError).toBeFalsy();
    expect((await delivered).text).toBe('to the other chat');
  });

  it('refusals come back as tool errors with the reason', async () => {
    const res = await client.callTool({
      name: 'register_group',
      arguments: { name: 'x', chat: 'web:x' },
    });
    expect(res.isError).toBe(true);
    expect(text(res)).toContain('forbidden: only the main group may register groups');
    const hijack = await client.callTool({
      name: 'send_message',
      arguments: { text: 'hi', chat: 'web:main' },
    });
    expect(hijack.isError).toBe(true);
    expect(text(hijack)).toContain('forbidden');
  });

  it('schedule_task answers with the canonical schedule, next fire times and the id', async () => {
    const res = await client.callTool({
      name: 'schedule_task',
      arguments: {
        schedule: '0 8 * * 1',
        prompt: 'compile the changelog',
        timezone: 'Europe/Berlin',
      },
    });
    expect(res.isError).toBeFalsy();
    const body = JSON.parse(text(res)) as {
      id: string;
      nextRuns: string[];
      schedule: { value: string };
    };
    expect(body.schedule.value).toBe('0 8 * * 1');
    expect(body.nextRuns).toHaveLength(3);
    expect(body.nextRuns[0]).toMatch(/T08:00:00\+0[12]:00$/);
    // The task reports back to the conversation that asked for it.
    expect(d.store.tasks.get(body.id)!.chatId).toBe('web:team2');
    const list = await client.callTool({ name: 'list_tasks', arguments: {} });
    expect(text(list)).toContain(body.id);
  });
});
