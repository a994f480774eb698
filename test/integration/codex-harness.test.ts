/**
 * The codex harness with the REAL Codex CLI binary (outside any sandbox) against the fake
 * OpenAI Responses API on 127.0.0.1: text turns, resume, usage and cost, the clawpod MCP tool
 * reaching the IPC queue, a shell tool call, credential failures, abort. Every case runs in
 * both modes: `app-server` (the default) and `exec` (the fallback).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCodexHarness } from '../../src/agent/harnesses/codex/harness.js';
import { resolveCodex } from '../../src/agent/harnesses/codex/binary.js';
import { STREAM_RETRIES } from '../../src/agent/harnesses/codex/config.js';
import type { RunnerEvent } from '../../src/protocol/runner-protocol.js';
import { IPC_DIRS } from '../../src/protocol/ipc.js';
import type { StartRequest } from '../../src/protocol/runner-protocol.js';
import {
  reply,
  startFakeOpenAi,
  toolNames,
  toolOutputs,
  userTexts,
  type FakeOpenAi,
  type FakeScript,
} from '../fakes/openai-server.js';

const codexMissing = (() => {
  try {
    resolveCodex();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
})();
if (codexMissing) console.warn(`codex harness tests skipped: ${codexMissing}`);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The mode of the describe block being run (its beforeEach sets it). */
let mode: 'app-server' | 'exec' = 'app-server';

interface Rig {
  fake: FakeOpenAi;
  root: string;
  env: Record<string, string>;
  start: StartRequest;
}

/** A fake API, a group/session/ipc/global layout like the sandbox's, and the harness env. */
async function rig(
  script: FakeScript,
  over: Partial<StartRequest> | ((fake: FakeOpenAi) => Partial<StartRequest>) = {},
  apiKey?: string,
): Promise<Rig> {
  const fake = await startFakeOpenAi({ script, apiKey });
  cleanups.push(() => fake.close());
  const root = mkdtempSync(join(tmpdir(), 'clawpod-codex-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  for (const d of ['group', 'session', 'global', 'tmp']) mkdirSync(join(root, d));
  for (const d of IPC_DIRS) mkdirSync(join(root, 'ipc', d), { recursive: true });
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: join(root, 'session'),
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    // CODEX_HOME must not be under TMPDIR (Codex then refuses its helper binaries).
    TMPDIR: join(root, 'tmp'),
    CLAWPOD_WORKDIR: join(root, 'group'),
    CLAWPOD_IPC_DIR: join(root, 'ipc'),
    CLAWPOD_GLOBAL_DIR: join(root, 'global'),
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'sk-test-key',
  };
  const extra = typeof over === 'function' ? over(fake) : over;
  const start: StartRequest = {
    type: 'start',
    sessionId: 'ses_test',
    sessionToken: 'test-session-token-0001',
    group: 'main',
    isMain: true,
    harness: 'codex',
    command: null,
    model: 'gpt-5.5',
    resumeId: null,
    timezone: 'UTC',
    assistantName: 'Andy',
    ...extra,
    harnessOptions: { mode, ...extra.harnessOptions },
  };
  return { fake, root, env, start };
}

async function turn(
  r: Rig,
  prompt: string,
  sessionId: string | null = null,
  signal = new AbortController().signal,
  env: Record<string, string> = r.env,
): Promise<RunnerEvent[]> {
  const harness = createCodexHarness(r.start, env);
  const events: RunnerEvent[] = [];
  try {
    for await (const ev of harness.turn(prompt, sessionId, signal)) events.push(ev);
  } finally {
    harness.close?.();
  }
  return events;
}

const result = (evs: RunnerEvent[]) =>
  evs.find((e): e is Extract<RunnerEvent, { type: 'result' }> => e.type === 'result');
const texts = (evs: RunnerEvent[]) => evs.flatMap((e) => (e.type === 'message' ? [e.text] : []));
const errors = (evs: RunnerEvent[]) =>
  evs.filter((e): e is Extract<RunnerEvent, { type: 'error' }> => e.type === 'error');

/** Answers every IPC request of `ipcDir` with ok, recording it. */
function answerIpc(
  ipcDir: string,
): Array<{ id: string; op: string; args: Record<string, unknown> }> {
  const seen: Array<{ id: string; op: string; args: Record<string, unknown> }> = [];
  const timer = setInterval(() => {
    for (const name of readdirSync(join(ipcDir, 'requests'))) {
      if (!name.endsWith('.json')) continue;
      const file = join(ipcDir, 'requests', name);
      const req = JSON.parse(readFileSync(file, 'utf8')) as (typeof seen)[number];
      rmSync(file);
      seen.push(req);
      const tmp = join(ipcDir, 'responses', `.${req.id}.tmp`);
      writeFileSync(tmp, JSON.stringify({ id: req.id, ok: true, result: { delivered: true } }));
      renameSync(tmp, join(ipcDir, 'responses', `${req.id}.json`));
    }
  }, 20);
  cleanups.push(() => clearInterval(timer));
  return seen;
}

describe.skipIf(!!codexMissing).each(['app-server', 'exec'] as const)(
  'codex harness (%s mode) with the real Codex CLI',
  (m) => {
    beforeEach(() => {
      mode = m;
    });

    it('answers a text turn with the reply, the thread id and per-turn usage with cost', async () => {
      const r = await rig(() =>
        reply.text('Hello from the fake model', {
          input_tokens: 1000,
          cached_tokens: 200,
          output_tokens: 50,
        }),
      );
      writeFileSync(join(r.root, 'group', 'AGENTS.md'), 'group-memory-marker');
      writeFileSync(join(r.root, 'global', 'CLAUDE.md'), 'global-memory-marker');
      const evs = await turn(r, 'hi there');
      expect(errors(evs)).toEqual([]);
      expect(texts(evs)).toEqual(['Hello from the fake model']);
      const res = result(evs)!;
      expect(res.resumeId).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.usage).toMatchObject({
        inputTokens: 800,
        cacheReadTokens: 200,
        cacheWriteTokens: 0,
        outputTokens: 50,
      });
      // gpt-5.5: 800 × $5 + 200 × $0.50 + 50 × $30 per 1M tokens
      expect(res.usage!.costUsd).toBeCloseTo((800 * 5 + 200 * 0.5 + 50 * 30) / 1e6, 9);

      const [req] = r.fake.responses();
      expect(req!.headers.authorization).toBe('Bearer sk-test-key');
      expect(req!.body!.model).toBe('gpt-5.5');
      const input = JSON.stringify(req!.body!.input);
      expect(input).toContain(`<cwd>${join(r.root, 'group')}</cwd>`);
      expect(input).toContain('group-memory-marker');
      expect(input).toContain('global-memory-marker');
      expect(input).toContain('You are Andy');
      expect(userTexts(req!.body!).at(-1)).toBe('hi there');
      expect(toolNames(req!.body!)).toContain('exec_command');
      expect(readFileSync(join(r.root, 'session', 'codex', 'config.toml'), 'utf8')).toContain(
        'model_provider = "clawpod"',
      );
    });

    it('resumes the thread: the fake sees the earlier turn; usage counts only the new turn', async () => {
      const r = await rig((_req, n) =>
        reply.text(`answer ${n}`, {
          input_tokens: 1000 * (n + 1),
          cached_tokens: 0,
          output_tokens: 10,
        }),
      );
      const first = await turn(r, 'first question');
      const thread = result(first)!.resumeId!;
      const second = await turn(r, 'second question', thread);
      expect(texts(second)).toEqual(['answer 1']);
      expect(result(second)!.resumeId).toBe(thread);
      expect(result(second)!.usage).toMatchObject({ inputTokens: 2000, outputTokens: 10 });
      const last = r.fake.responses().at(-1)!.body!;
      const said = JSON.stringify(last.input);
      expect(userTexts(last)).toEqual(
        expect.arrayContaining(['first question', 'second question']),
      );
      expect(said).toContain('answer 0');
    });

    it('starts a fresh thread when the one to resume is gone', async () => {
      const r = await rig(() => reply.text('fresh'));
      const evs = await turn(r, 'hello', '01a21840-0000-7000-8000-000000000000');
      expect(texts(evs)).toEqual(['fresh']);
      expect(evs.some((e) => e.type === 'log' && e.msg.includes('is gone'))).toBe(true);
      expect(result(evs)!.resumeId).not.toBe('01a21840-0000-7000-8000-000000000000');
    });

    it('calls the clawpod send_message tool over IPC and runs a shell command in the group folder', async () => {
      const script: FakeScript = (req, n) => {
        if (n === 0) return reply.mcp('clawpod', 'send_message', { text: 'working on it' });
        if (n === 1) return reply.shell('echo made-by-codex > made.txt && pwd');
        return reply.text(
          `done: ${toolOutputs(req)
            .map((o) => o.output)
            .join(' | ')}`,
        );
      };
      const r = await rig(script);
      const ipc = answerIpc(join(r.root, 'ipc'));
      const evs = await turn(r, 'do the work');
      expect(errors(evs)).toEqual([]);
      expect(ipc).toEqual([
        expect.objectContaining({ op: 'send_message', args: { text: 'working on it' } }),
      ]);
      expect(readFileSync(join(r.root, 'group', 'made.txt'), 'utf8').trim()).toBe('made-by-codex');
      const [reply1] = texts(evs);
      expect(reply1).toContain('delivered');
      expect(reply1).toContain(join(r.root, 'group'));
      // The tools as Codex offers them: MCP tools under the mcp__clawpod namespace.
      const calls = r.fake.responses()[1]!.body!.input.filter((i) => i.type === 'function_call');
      expect(calls).toEqual([
        expect.objectContaining({ namespace: 'mcp__clawpod', name: 'send_message' }),
      ]);
    });

    it('reports a refused key (401) at once, not retryable, naming OPENAI_API_KEY', async () => {
      const r = await rig(() => reply.text('never'), {}, 'sk-the-real-one');
      const t0 = Date.now();
      const evs = await turn(r, 'hi');
      const [err] = errors(evs);
      expect(err).toMatchObject({ retryable: false });
      expect(err!.message).toContain('OPENAI_API_KEY');
      expect(err!.message).toContain('401');
      expect(result(evs)).toBeUndefined();
      // Codex retries a failed stream STREAM_RETRIES times, a 401 included; then it gives up.
      expect(r.fake.responses()).toHaveLength(1 + STREAM_RETRIES);
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it('fails at once without a key, naming the variable', async () => {
      const r = await rig(() => reply.text('never'));
      const { OPENAI_API_KEY: _gone, ...env } = r.env;
      const evs = await turn(r, 'hi', null, undefined, env);
      expect(errors(evs)).toEqual([
        expect.objectContaining({
          retryable: false,
          message: expect.stringContaining('OPENAI_API_KEY'),
        }),
      ]);
      expect(r.fake.requests).toHaveLength(0);
    });

    it('uses the run placeholder for a custom provider key and sends no model prices for it', async () => {
      const r = await rig(
        () => reply.text('local model says hi'),
        (fake) => ({
          model: 'llama3.2',
          harnessOptions: {
            provider: {
              name: 'Ollama',
              baseUrl: fake.baseUrl,
              envKey: 'OLLAMA_KEY',
              wireApi: 'responses',
            },
          },
          proxy: {
            socket: '/nonexistent',
            placeholder: 'placeholder-0123456789',
            anthropicAuth: 'api-key',
          },
        }),
      );
      const evs = await turn(r, 'hi');
      expect(texts(evs)).toEqual(['local model says hi']);
      expect(result(evs)!.usage!.costUsd).toBeUndefined();
      expect(r.fake.responses()[0]!.headers.authorization).toBe('Bearer placeholder-0123456789');
    });

    it('writes a config Codex reads back exactly, whatever the assistant name holds', async () => {
      const name = 'An"dy \\ \u0001 é 🦀\nline2';
      const r = await rig(() => reply.text('ok'), { assistantName: name });
      const evs = await turn(r, 'hi');
      expect(errors(evs)).toEqual([]);
      const dev = r.fake
        .responses()[0]!
        .body!.input.filter(
          (i) => i.type === 'message' && (i as { role?: string }).role === 'developer',
        )
        .map((i) => JSON.stringify(i))
        .join('');
      expect(dev).toContain(JSON.stringify(`You are ${name},`).slice(1, -1));
    });

    it('ends the turn on abort and leaves no Codex process behind', async () => {
      let release!: () => void;
      const held = new Promise<void>((res) => (release = res));
      cleanups.push(() => release());
      const r = await rig(async () => {
        await held;
        return reply.text('too late');
      });
      const ac = new AbortController();
      const seen = r.fake.nextRequest();
      const done = turn(r, 'wait', null, ac.signal);
      await seen;
      const t0 = Date.now();
      ac.abort();
      const evs = await done;
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(errors(evs)[0]!.message).toContain('aborted');
      expect(texts(evs)).toEqual([]);
      expect(existsSync(join(r.root, 'session', 'codex'))).toBe(true);
      // Nothing keeps running in the group folder (Codex, its MCP server, the shell).
      const group = join(r.root, 'group');
      const inGroup = () =>
        readdirSync('/proc').filter((pid) => {
          try {
            return /^\d+$/.test(pid) && readlinkSync(`/proc/${pid}/cwd`) === group;
          } catch {
            return false;
          }
        });
      for (let i = 0; i < 50 && inGroup().length; i++)
        await new Promise((res) => setTimeout(res, 100));
      expect(inGroup()).toEqual([]);
    });
  },
);
