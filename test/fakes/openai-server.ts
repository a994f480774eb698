/**
 * A fake OpenAI Responses API on 127.0.0.1 for driving the real Codex CLI binary offline.
 *
 * - `POST /v1/responses` with `stream: true`: the reply comes from the test's script, which
 *   sees the parsed request (earlier turns, `function_call_output` items…) and answers with the
 *   standard SSE events: response.created, response.in_progress, then per output item
 *   response.output_item.added, (text) response.content_part.added,
 *   response.output_text.delta/done, response.content_part.done, (function call)
 *   response.function_call_arguments.delta/done, then response.output_item.done, and finally
 *   response.completed carrying `usage`.
 * - When `apiKey` is set, a request whose `Authorization: Bearer …` differs gets a 401 with an
 *   OpenAI-shaped `invalid_api_key` error (what the real API answers a wrong key).
 * - `GET /v1/models`: a one-model list. Anything else: 404 with an OpenAI-shaped error body.
 *
 * Every request is logged with its headers, so a test can check which credential arrived and
 * what a tool saw (its output comes back in the next request as `function_call_output`).
 * Seen from codex 0.171: the shell tool is `exec_command` ({cmd}); MCP tools declared in
 * config.toml arrive as a `namespace` tool named `mcp__<server>` holding `<tool>` functions.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A logged request; `body` is the parsed JSON body (undefined when not JSON). */
export interface LoggedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: ResponsesRequest | undefined;
  at: number;
}

/** The parts of a Responses API request the tests look at. */
export interface ResponsesRequest {
  model: string;
  stream?: boolean;
  input: InputItem[];
  tools?: Array<{ type: string; name?: string; tools?: Array<{ name: string }> }>;
  [k: string]: unknown;
}

export type InputItem =
  | { type: 'message'; role: string; content: Array<{ type: string; text?: string }> }
  | { type: 'function_call'; call_id: string; name: string; namespace?: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: unknown }
  | { type: string; [k: string]: unknown };

/** One output item of a scripted reply. */
export type FakeOutput =
  | { type: 'text'; text: string }
  | { type: 'call'; name: string; namespace?: string; args: unknown; callId?: string };

/** One scripted answer: output items, or an HTTP error. */
export type FakeReply =
  | { output: FakeOutput[]; usage?: Partial<FakeUsage> }
  | { status: number; code: string; message: string };

export interface FakeUsage {
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

export const DEFAULT_USAGE: FakeUsage = {
  input_tokens: 100,
  cached_tokens: 10,
  output_tokens: 20,
  reasoning_tokens: 5,
};

/** Decides the reply to one responses request; `n` counts responses requests from 0. */
export type FakeScript = (req: ResponsesRequest, n: number) => FakeReply | Promise<FakeReply>;

/** Reply helpers for scripts. */
export const reply = {
  text: (text: string, usage?: Partial<FakeUsage>): FakeReply => ({
    output: [{ type: 'text', text }],
    usage,
  }),
  /** A call of codex's shell tool (`exec_command`). */
  shell: (cmd: string, text?: string): FakeReply => ({
    output: [
      ...(text ? [{ type: 'text' as const, text }] : []),
      { type: 'call', name: 'exec_command', args: { cmd } },
    ],
  }),
  /** A call of an MCP tool as codex offers it: namespace `mcp__<server>`, name `<tool>`. */
  mcp: (server: string, tool: string, args: unknown): FakeReply => ({
    output: [{ type: 'call', namespace: `mcp__${server}`, name: tool, args }],
  }),
  calls: (...calls: Array<Extract<FakeOutput, { type: 'call' }>>): FakeReply => ({
    output: calls,
  }),
  error: (status: number, code: string, message: string): FakeReply => ({ status, code, message }),
};

/** The `function_call_output` items of a request, oldest first, as text. */
export function toolOutputs(req: ResponsesRequest): Array<{ callId: string; output: string }> {
  return req.input
    .filter(
      (i): i is Extract<InputItem, { type: 'function_call_output' }> =>
        i.type === 'function_call_output',
    )
    .map((i) => ({
      callId: i.call_id,
      output: typeof i.output === 'string' ? i.output : JSON.stringify(i.output),
    }));
}

/** The text of every user message of a request, oldest first. */
export function userTexts(req: ResponsesRequest): string[] {
  return req.input
    .filter(
      (i): i is Extract<InputItem, { type: 'message' }> =>
        i.type === 'message' && (i as { role?: string }).role === 'user',
    )
    .map((i) => i.content.map((c) => c.text ?? '').join(''));
}

/** Names of the tools offered, with namespaced tools as `namespace/name`. */
export function toolNames(req: ResponsesRequest): string[] {
  return (req.tools ?? []).flatMap((t) =>
    t.type === 'namespace' ? (t.tools ?? []).map((f) => `${t.name}/${f.name}`) : [t.name ?? t.type],
  );
}

export interface FakeOpenAi {
  /** `http://127.0.0.1:PORT/v1`: the provider `base_url`. */
  readonly baseUrl: string;
  readonly requests: LoggedRequest[];
  /** Logged `POST /v1/responses` requests only. */
  responses(): LoggedRequest[];
  /** Resolves at the next responses request (with its arrival time). */
  nextRequest(): Promise<LoggedRequest>;
  setScript(script: FakeScript): void;
  close(): Promise<void>;
}

export interface FakeOpenAiOptions {
  script?: FakeScript;
  /** When set, other bearer tokens get 401 invalid_api_key. */
  apiKey?: string;
}

/** Starts the fake on 127.0.0.1 (random port). Default script: answer "ok" to everything. */
export async function startFakeOpenAi(opts: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  let script: FakeScript = opts.script ?? (() => reply.text('ok'));
  const requests: LoggedRequest[] = [];
  const waiters: Array<(r: LoggedRequest) => void> = [];
  let count = 0;
  let ids = 0;
  const id = (p: string) => `${p}_${++ids}`;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: ResponsesRequest | undefined;
        try {
          body = raw ? (JSON.parse(raw) as ResponsesRequest) : undefined;
        } catch {
          body = undefined;
        }
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        const logged: LoggedRequest = {
          method: req.method ?? '',
          path,
          headers: req.headers,
          body,
          at: performance.now(),
        };
        requests.push(logged);
        const sendError = (status: number, code: string, message: string) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message, type: 'invalid_request_error', code } }));
        };
        if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
          return sendError(401, 'invalid_api_key', 'Incorrect API key provided.');
        }
        if (req.method === 'GET' && path === '/v1/models') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(
            JSON.stringify({ object: 'list', data: [{ id: 'fake', object: 'model' }] }),
          );
        }
        if (req.method !== 'POST' || path !== '/v1/responses' || !body) {
          return sendError(404, 'not_found', `no route ${req.method} ${path}`);
        }
        for (const w of waiters.splice(0)) w(logged);
        let answer: FakeReply;
        try {
          answer = await script(body, count++);
        } catch (err) {
          return sendError(500, 'server_error', `script failed: ${String(err)}`);
        }
        if ('status' in answer) return sendError(answer.status, answer.code, answer.message);
        streamReply(res, body.model, answer, id);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    responses: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/responses'),
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    setScript: (s) => (script = s),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Res = import('node:http').ServerResponse;

/** Writes one scripted reply as the Responses API SSE stream. */
function streamReply(
  res: Res,
  model: string,
  answer: Extract<FakeReply, { output: FakeOutput[] }>,
  id: (prefix: string) => string,
): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let seq = 0;
  const send = (type: string, data: Record<string, unknown>) =>
    res.write(
      `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`,
    );
  const responseId = id('resp');
  const base = {
    id: responseId,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    model,
  };
  send('response.created', { response: { ...base, status: 'in_progress', output: [] } });
  send('response.in_progress', { response: { ...base, status: 'in_progress', output: [] } });
  const done: unknown[] = [];
  answer.output.forEach((out, output_index) => {
    if (out.type === 'text') {
      const item_id = id('msg');
      const item = {
        id: item_id,
        type: 'message',
        role: 'assistant',
        status: 'in_progress',
        content: [],
      };
      send('response.output_item.added', { output_index, item });
      const part = { type: 'output_text', text: '', annotations: [] };
      send('response.content_part.added', { item_id, output_index, content_index: 0, part });
      send('response.output_text.delta', {
        item_id,
        output_index,
        content_index: 0,
        delta: out.text,
      });
      send('response.output_text.done', {
        item_id,
        output_index,
        content_index: 0,
        text: out.text,
      });
      const full = { ...part, text: out.text };
      send('response.content_part.done', { item_id, output_index, content_index: 0, part: full });
      const final = { ...item, status: 'completed', content: [full] };
      send('response.output_item.done', { output_index, item: final });
      done.push(final);
    } else {
      const item_id = id('fc');
      const args = typeof out.args === 'string' ? out.args : JSON.stringify(out.args);
      const item = {
        id: item_id,
        type: 'function_call',
        status: 'in_progress',
        call_id: out.callId ?? id('call'),
        name: out.name,
        ...(out.namespace ? { namespace: out.namespace } : {}),
        arguments: '',
      };
      send('response.output_item.added', { output_index, item });
      send('response.function_call_arguments.delta', { item_id, output_index, delta: args });
      send('response.function_call_arguments.done', { item_id, output_index, arguments: args });
      const final = { ...item, status: 'completed', arguments: args };
      send('response.output_item.done', { output_index, item: final });
      done.push(final);
    }
  });
  const u = { ...DEFAULT_USAGE, ...answer.usage };
  const usage = {
    input_tokens: u.input_tokens,
    input_tokens_details: { cached_tokens: u.cached_tokens },
    output_tokens: u.output_tokens,
    output_tokens_details: { reasoning_tokens: u.reasoning_tokens },
    total_tokens: u.input_tokens + u.output_tokens,
  };
  send('response.completed', { response: { ...base, status: 'completed', output: done, usage } });
  res.end();
}
