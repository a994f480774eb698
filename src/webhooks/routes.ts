import type { Context, Hono } from 'hono';
import { apiError } from '../http/errors.js';
import { TaskError } from '../schedule/errors.js';
import type { HookDeps } from './hooks.js';
import type { HookCall } from '../store/webhook-nonces.js';
import { renderPrompt } from './prompt.js';
import { readLimited } from './read-body.js';
import { checkAuth, checkFreshness, type AuthHeaders } from './verify.js';

const taskStatus = {
  invalid: 400,
  not_found: 404,
  forbidden: 403,
  conflict: 409,
  unavailable: 503,
} as const;

function headers(c: Context): AuthHeaders {
  return {
    signature: c.req.header('x-clawpod-signature'),
    authorization: c.req.header('authorization'),
    timestamp: c.req.header('x-clawpod-timestamp'),
    nonce: c.req.header('x-clawpod-nonce'),
  };
}

/**
 * `POST /hooks/<name>`: authenticated inbound webhooks (outside the `/api` bearer middleware;
 * each hook has its own secret). Checks, in order: known hook (404), Content-Length (413),
 * timestamp and nonce (401), the body as read (413), signature or bearer (401), JSON (400),
 * replay of the nonce or the signature (409). Nothing is stored or run before all of them pass.
 */
export function mountHookRoutes(app: Hono, deps: HookDeps): void {
  app.post('/hooks/:name', async (c) => {
    const name = c.req.param('name');
    const hook = deps.hooks.get(name);
    if (!hook) return apiError(c, 404, 'not_found', `no webhook ${name}`);
    const log = deps.log.child({ hook: name });
    if (!deps.accepting())
      return apiError(c, 503, 'stopping', 'the daemon is shutting down; try again after restart');
    const declared = c.req.header('content-length');
    if (declared !== undefined && !(Number(declared) <= hook.maxBytes)) {
      return apiError(c, 413, 'too_large', `body over ${hook.maxBytes} bytes`);
    }
    const h = headers(c);
    const fresh = checkFreshness(h, deps.now());
    if (!fresh.ok) {
      log.info({ code: fresh.code }, 'webhook call refused');
      return apiError(c, fresh.status, fresh.code, fresh.message);
    }
    const read = await readLimited(c.req.raw, hook.maxBytes);
    if (!read.ok) return apiError(c, 413, 'too_large', `body over ${hook.maxBytes} bytes`);
    const auth = checkAuth(hook.auth, hook.secret, h, read.body);
    if (!auth.ok) {
      log.warn({ code: auth.code }, 'webhook call refused');
      return apiError(c, auth.status, auth.code, auth.message);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(read.body.toString('utf8'));
    } catch {
      return apiError(c, 400, 'invalid_json', 'the request body must be JSON');
    }
    const call: HookCall = { hook: name, nonce: fresh.nonce, signature: auth.signature };
    const seen = deps.nonces.remember(call, deps.now());
    if (seen === 'nonce_seen') {
      log.warn({ nonce: fresh.nonce }, 'webhook replay refused');
      return apiError(c, 409, 'replay', 'this X-Clawpod-Nonce was already used');
    }
    if (seen === 'signature_seen') {
      log.warn({ nonce: fresh.nonce }, 'webhook replay refused: signature seen before');
      return apiError(c, 409, 'replay', 'this X-Clawpod-Signature was already used');
    }

    if (hook.run) {
      try {
        const r = deps.runTask(hook.run);
        log.info({ task: hook.run, taskRunId: r.taskRunId }, 'webhook triggered task');
        return c.json({ task: hook.run, taskRunId: r.taskRunId }, 202);
      } catch (err) {
        deps.nonces.forget(call);
        if (err instanceof TaskError)
          return apiError(c, taskStatus[err.code], `task_${err.code}`, err.message);
        throw err;
      }
    }
    let res: Awaited<ReturnType<HookDeps['receive']>>;
    try {
      res = await deps.receive({
        chatId: hook.chat,
        platformId: fresh.nonce,
        sender: `webhook:${name}`,
        senderName: `webhook ${name}`,
        text: renderPrompt(hook.prompt, name, payload),
        ts: deps.now(),
        mentioned: true,
      });
    } catch (err) {
      deps.nonces.forget(call); // not stored: the caller may retry with it
      throw err;
    }
    if (res.duplicate) return apiError(c, 409, 'replay', 'this X-Clawpod-Nonce was already used');
    log.info({ seq: res.seq, dropped: res.dropped ?? false }, 'webhook stored');
    return c.json({ seq: res.seq }, 202);
  });
}
