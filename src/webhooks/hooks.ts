import type { Logger } from 'pino';
import type { Inbound } from '../channels/channel.js';
import { resolveSecret, type Config } from '../config/load.js';
import { DEFAULT_PROMPT } from './prompt.js';
import type { HookCall, Seen, WebhookNonceStore } from '../store/webhook-nonces.js';
import { WINDOW_MS, type HookAuth } from './verify.js';

/** One configured hook, its secret resolved. Never log `secret`. */
export interface Hook {
  name: string;
  auth: HookAuth;
  secret: string;
  chat: string;
  prompt: string;
  /** Task to trigger instead of storing a message. */
  run?: string;
  maxBytes: number;
}

/**
 * The group a message hook's chat is bound to when the hook names none: an ordinary non-main
 * group, so an outside caller never lands in `main` (which may message any chat and manage
 * groups and tasks).
 */
export const DEFAULT_HOOK_GROUP = 'hooks';

/** What the `/hooks/*` routes need from the daemon. */
export interface HookDeps {
  hooks: ReadonlyMap<string, Hook>;
  /** Replay protection over the freshness window (WINDOW_MS). */
  nonces: { remember(call: HookCall, now: number): Seen; forget(call: HookCall): void };
  log: Logger;
  now(): number;
  /** False while the daemon is stopping: calls get 503. */
  accepting(): boolean;
  /** Stores and routes an inbound message (the router). */
  receive(msg: Inbound): Promise<{ seq: number; duplicate: boolean; dropped?: boolean }>;
  /** Triggers a task now as the owner; throws TaskError when it cannot. */
  runTask(id: string): { taskRunId: number; scheduledFor: number };
}

/** The parts of the daemon hook setup uses. */
export interface HookSetup {
  config: Config;
  log: Logger;
  /** The store's replay table. */
  nonces: WebhookNonceStore;
  now?: () => number;
  accepting(): boolean;
  receive: HookDeps['receive'];
  runTask: HookDeps['runTask'];
  /**
   * Binds `chat` to `group` when the chat is bound to no group yet; returns the group the chat
   * is bound to afterwards (an existing binding is kept).
   */
  ensureBound(group: string, chat: string): { folder: string; isMain: boolean } | undefined;
  /** Creates `group` as an ordinary (non-main) group when it does not exist yet. */
  ensureGroup(group: string): void;
}

/**
 * Builds the hook table from config. A hook whose secret variable is unset is skipped with a
 * warning (it answers 404), so a missing secret never leaves an unauthenticated endpoint.
 * Returns undefined when no hook is configured: the routes are then not mounted at all.
 */
export function createHooks(setup: HookSetup): HookDeps | undefined {
  const { config, log } = setup;
  const configured = config.file.webhooks ?? {};
  if (Object.keys(configured).length === 0) return undefined;
  const hooks = new Map<string, Hook>();
  for (const [name, h] of Object.entries(configured)) {
    const secret = resolveSecret(h.secret, config.env);
    if (!secret) {
      log.warn(
        { hook: name, secretRef: h.secret },
        'webhook skipped: its secret variable is not set',
      );
      continue;
    }
    if (!h.run) {
      const group = h.group ?? DEFAULT_HOOK_GROUP;
      try {
        if (h.group === undefined) setup.ensureGroup(DEFAULT_HOOK_GROUP);
        const bound = setup.ensureBound(group, h.chat);
        // Bound to main earlier (the old default, or by hand): say so, the owner did not ask.
        if (h.group === undefined && bound?.isMain) {
          log.warn(
            { hook: name, chat: h.chat },
            'webhook chat is bound to the main group, so webhook callers reach main; give the hook a chat of its own, or set group: main on it to accept this',
          );
        }
      } catch (err) {
        log.warn({ hook: name, group, chat: h.chat, err }, 'webhook chat not bound');
      }
    }
    hooks.set(name, {
      name,
      auth: h.auth,
      secret,
      chat: h.chat,
      prompt: h.prompt ?? DEFAULT_PROMPT,
      run: h.run,
      maxBytes: h.maxBytes,
    });
    log.info({ hook: name, auth: h.auth, chat: h.chat, run: h.run }, 'webhook enabled');
  }
  return {
    hooks,
    nonces: {
      remember: (call, now) => setup.nonces.remember(call, now, WINDOW_MS),
      forget: (call) => setup.nonces.forget(call),
    },
    log,
    now: setup.now ?? Date.now,
    accepting: setup.accepting,
    receive: setup.receive,
    runTask: setup.runTask,
  };
}
