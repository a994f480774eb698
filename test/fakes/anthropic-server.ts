/**
 * A fake Anthropic Messages API on 127.0.0.1 for driving the real Claude Code binary offline.
 *
 * - `POST /v1/messages` (Claude Code adds `?beta=true`): the reply comes from the test's script,
 *   which sees the parsed request (earlier turns, tool_result blocks…). Streaming requests get
 *   the standard SSE events (message_start, content_block_start, content_block_delta with
 *   text_delta / input_json_delta, content_block_stop, message_delta with usage, message_stop);
 *   a non-streaming request gets one JSON message.
 * - `POST /v1/messages/count_tokens`: a rough count (chars / 4).
 * - `HEAD|GET /`, `/api/hello`: 200, so connectivity probes pass.
 * - anything else: 404 with an Anthropic-shaped error body.
 *
 * Every request is logged with its headers, so a test can check which credential arrived.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** A logged request. `body` is the parsed JSON body (undefined when not JSON). */
export interface LoggedRequest {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: MessagesRequest | undefined;
  /** Arrival time, `performance.now()` of this process (the fake runs in the test's process). */
  at: number;
}

/** The parts of a Messages API request the tests look at. */
export interface MessagesRequest {
  model: string;
  stream?: boolean;
  system?: string | Array<{ type: string; text?: string }>;
  messages: Array<{ role: 'user' | 'assistant'; content: string | ContentBlock[] }>;
  tools?: Array<{ name: string }>;
  [k: string]: unknown;
}

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | {
      type: 'tool_result';
      tool_use_id: string;
      content?: string | Array<{ type: string; text?: string }>;
      is_error?: boolean;
    }
  | { type: string; [k: string]: unknown };

/** One scripted answer. */
export type FakeReply =
  | {
      content: Array<
        | { type: 'text'; text: string }
        | { type: 'tool_use'; name: string; input: unknown; id?: string }
      >;
      usage?: Partial<FakeUsage>;
      /** Default: `tool_use` when the content has a tool_use block, else `end_turn`. */
      stopReason?: string;
    }
  | { status: number; errorType: string; message: string };

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export const DEFAULT_USAGE: FakeUsage = {
  input_tokens: 100,
  output_tokens: 20,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
};

/** Decides the reply to one messages request; `n` counts messages requests from 0. */
export type FakeScript = (req: MessagesRequest, n: number) => FakeReply | Promise<FakeReply>;

/** Reply helpers for scripts. */
export const reply = {
  text: (text: string, usage?: Partial<FakeUsage>): FakeReply => ({
    content: [{ type: 'text', text }],
    usage,
  }),
  tool: (name: string, input: unknown, text?: string): FakeReply => ({
    content: [
      ...(text ? [{ type: 'text' as const, text }] : []),
      { type: 'tool_use' as const, name, input },
    ],
  }),
  error: (status: number, errorType: string, message: string): FakeReply => ({
    status,
    errorType,
    message,
  }),
};

/** The text of every tool_result block in the request's last user message. */
export function toolResults(req: MessagesRequest): string[] {
  const last = req.messages.at(-1);
  if (!last || typeof last.content === 'string') return [];
  return last.content
    .filter((b): b is Extract<ContentBlock, { type: 'tool_result' }> => b.type === 'tool_result')
    .map((b) =>
      typeof b.content === 'string'
        ? b.content
        : (b.content ?? []).map((c) => (typeof c.text === 'string' ? c.text : '')).join(''),
    );
}

/** All text of user messages (prompts and tool results), for "did the model see X" checks. */
export function userText(req: MessagesRequest): string {
  return req.messages
    .filter((m) => m.role === 'user')
    .map((m) =>
      typeof m.content === 'string'
        ? m.content
        : m.content
            .map((b) => {
              if (b.type === 'text') return (b as { text: string }).text;
              if (b.type === 'tool_result') return JSON.stringify(b.content ?? '');
              return '';
            })
            .join('\n'),
    )
    .join('\n');
}

/**
 * The name of the tool whose result the request carries (the last assistant message's last
 * tool_use), or undefined when the request starts a turn with a new prompt.
 */
export function answeredTool(req: MessagesRequest): string | undefined {
  if (!isToolRound(req)) return undefined;
  const assistant = [...req.messages].reverse().find((m) => m.role === 'assistant');
  if (!assistant || typeof assistant.content === 'string') return undefined;
  const uses = assistant.content.filter((b) => b.type === 'tool_use') as Array<{ name: string }>;
  return uses.at(-1)?.name;
}

/** True when the last message is a user message holding a tool_result (a tool round, not a new prompt). */
export function isToolRound(req: MessagesRequest): boolean {
  return toolResults(req).length > 0;
}

export interface FakeAnthropic {
  url: string;
  port: number;
  /** Every request, in arrival order. */
  readonly requests: LoggedRequest[];
  /** Only the `POST /v1/messages` requests. */
  messages(): LoggedRequest[];
  setScript(script: FakeScript): void;
  /** Resolves with the next messages request, as it arrives (before it is answered). */
  nextRequest(): Promise<LoggedRequest>;
  close(): Promise<void>;
}

let idSeq = 0;
const nextId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(++idSeq).toString(36)}`;

/** Starts the fake on 127.0.0.1 (port 0 unless given). Default script: answers "ok". */
export async function startFakeAnthropic(
  script: FakeScript = () => reply.text('ok'),
  port = 0,
): Promise<FakeAnthropic> {
  let current = script;
  let count = 0;
  const requests: LoggedRequest[] = [];
  const waiters: Array<(r: LoggedRequest) => void> = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: MessagesRequest | undefined;
      try {
        body = raw ? (JSON.parse(raw) as MessagesRequest) : undefined;
      } catch {
        body = undefined;
      }
      const logged: LoggedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.search,
        headers: req.headers,
        body,
        at: performance.now(),
      };
      requests.push(logged);
      void handle(logged, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(apiError('api_error', String(err)));
      });
    });
  });

  async function handle(r: LoggedRequest, res: import('node:http').ServerResponse) {
    if (r.method === 'POST' && r.path === '/v1/messages' && r.body) {
      for (const w of waiters.splice(0)) w(r);
      const answer = await current(r.body, count++);
      if ('status' in answer) {
        res.writeHead(answer.status, {
          'content-type': 'application/json',
          'request-id': nextId('req'),
        });
        res.end(apiError(answer.errorType, answer.message));
        return;
      }
      const message = buildMessage(r.body.model, answer);
      if (r.body.stream) streamMessage(res, message);
      else {
        res.writeHead(200, { 'content-type': 'application/json', 'request-id': nextId('req') });
        res.end(JSON.stringify(message));
      }
      return;
    }
    if (r.method === 'POST' && r.path === '/v1/messages/count_tokens') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: Math.ceil(JSON.stringify(r.body ?? '').length / 4) }));
      return;
    }
    if (r.path === '/' || r.path === '/api/hello') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(r.method === 'HEAD' ? undefined : '{}');
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(apiError('not_found_error', `no fake for ${r.method} ${r.path}`));
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    messages: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages'),
    setScript: (s) => {
      current = s;
    },
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const apiError = (type: string, message: string) =>
  JSON.stringify({ type: 'error', error: { type, message } });

interface BuiltMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<
    { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown }
  >;
  stop_reason: string;
  stop_sequence: null;
  usage: FakeUsage;
}

function buildMessage(model: string, r: Extract<FakeReply, { content: unknown }>): BuiltMessage {
  const content = r.content.map((b) =>
    b.type === 'text'
      ? b
      : { type: 'tool_use' as const, id: b.id ?? nextId('toolu'), name: b.name, input: b.input },
  );
  return {
    id: nextId('msg'),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason:
      r.stopReason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
    stop_sequence: null,
    usage: { ...DEFAULT_USAGE, ...r.usage },
  };
}

function streamMessage(res: import('node:http').ServerResponse, m: BuiltMessage): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'request-id': nextId('req'),
  });
  const send = (event: string, data: unknown) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('message_start', {
    type: 'message_start',
    message: { ...m, content: [], stop_reason: null, usage: { ...m.usage, output_tokens: 1 } },
  });
  m.content.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'text', text: '' },
      });
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'text_delta', text: block.text },
      });
    } else {
      send('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      });
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  });
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: m.stop_reason, stop_sequence: null },
    usage: { output_tokens: m.usage.output_tokens },
  });
  send('message_stop', { type: 'message_stop' });
  res.end();
}
