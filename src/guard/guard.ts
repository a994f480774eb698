/**
 * The guard: one policy point for every privileged action. `request` answers allow or deny at
 * once from the rules, or opens an approval (a row in SQLite, a card where the owner is) and
 * returns a promise of the decision. The first valid answer decides (compare-and-swap); expiry
 * is a deny. Pending approvals survive a restart (see docs/approvals.md for what happens to
 * the run that waited).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { MAX_TIMER_MS } from '../clock.js';
import type { Config } from '../config/load.js';
import { ownerChat } from '../conversation/owner-chat.js';
import { OWNER_SENDER } from '../conversation/senders.js';
import type { EventBus } from '../events/bus.js';
import type { ApprovalDecision, ApprovalRecord } from '../store/approvals.js';
import type { GuardRuleRecord, RuleEffect } from '../store/guard-rules.js';
import type { Store } from '../store/store.js';
import { dedupeKey, subjectOf, summaryOf, type ActionKind, type GuardAction } from './actions.js';
import { alwaysRule, renderCard } from './card.js';
import { GuardError } from './errors.js';
import { decide, defaultRules, toolRuleName, type Rule, type Verdict } from './policy.js';
import { TaintLedger } from './taint.js';

/** Who is acting: the group (by its IPC directory or run), the run, the conversation's chat. */
export interface GuardContext {
  group: string;
  runId?: string | null;
  chat?: string | null;
}

/** How a request ended: allowed (by a rule or an answer) or not (with a message for the agent). */
export type GuardOutcome =
  | { allowed: true; via: 'rule' | 'approval'; approval?: number; decision?: ApprovalDecision }
  | {
      allowed: false;
      via: 'rule' | 'approval' | 'expired' | 'shutdown';
      approval?: number;
      message: string;
    };

/** The guard's first answer: decided now, or an approval to wait for. */
export type GuardRequest =
  | { verdict: 'allow' }
  | { verdict: 'deny'; message: string }
  | { verdict: 'ask'; approval: ApprovalRecord; decided: Promise<GuardOutcome> };

export type AnswerResult =
  | { ok: true; approval: ApprovalRecord }
  | {
      ok: false;
      code: 'not_found' | 'decided' | 'forbidden';
      message: string;
      approval?: ApprovalRecord;
    };

/** Run after an approval is decided allowed (admitting a sender, say). Must not throw. */
export type AllowedHook = (record: ApprovalRecord, decision: ApprovalDecision) => void;

export interface GuardDeps {
  config: Config;
  store: Store;
  clock: Clock;
  bus: EventBus;
  outbox: { enqueue(item: { key: string; chatId: string; text: string }): number; kick(): void };
  log: Logger;
}

interface Timers {
  expiry?: unknown;
  fallback?: unknown;
}

const ALLOW: GuardRequest = { verdict: 'allow' };

export class Guard {
  readonly taint: TaintLedger;
  private readonly waiters = new Map<number, Array<(o: GuardOutcome) => void>>();
  private readonly timers = new Map<number, Timers>();
  private readonly layerCache = new Map<string, ReadonlyArray<readonly Rule[]>>();
  private readonly hooks = new Map<ActionKind, AllowedHook>();
  private state: 'created' | 'running' | 'stopped' = 'created';

  constructor(private readonly deps: GuardDeps) {
    this.taint = new TaintLedger((runId, reasons) => deps.store.runs.setTaint(runId, reasons));
  }

  /** Re-arms the expiry of every pending approval; those already past it are denied now. */
  start(): void {
    if (this.state !== 'created') return;
    this.state = 'running';
    const now = this.deps.clock.now();
    for (const a of this.deps.store.approvals.pending()) {
      if (a.expiresAt <= now) this.expire(a.id);
      else this.arm(a);
    }
  }

  /**
   * Clears the timers; every waiter learns the daemon is stopping (its approval stays pending
   * in the table, and can still be answered after the restart).
   */
  stop(): void {
    this.state = 'stopped';
    for (const t of this.timers.values()) {
      if (t.expiry !== undefined) this.deps.clock.clearTimeout(t.expiry);
      if (t.fallback !== undefined) this.deps.clock.clearTimeout(t.fallback);
    }
    this.timers.clear();
    for (const [id, ws] of this.waiters)
      for (const w of ws)
        w({
          allowed: false,
          via: 'shutdown',
          approval: id,
          message: `clawpod is stopping; approval #${id} stays open and can be answered after the restart`,
        });
    this.waiters.clear();
  }

  /** Registers what happens when an approval of `kind` is allowed (beyond writing a rule). */
  onAllowed(kind: ActionKind, hook: AllowedHook): void {
    this.hooks.set(kind, hook);
  }

  /** The rules' verdict for an action, without asking anyone (fast; no I/O when cached). */
  check(action: GuardAction, ctx: GuardContext): Verdict {
    return decide(action, this.layers(ctx.group), this.taint.of(ctx.runId).length > 0);
  }

  /** Decides now by the rules, or opens (or joins) an approval and returns it. */
  request(action: GuardAction, ctx: GuardContext): GuardRequest {
    const verdict = this.check(action, ctx);
    if (verdict.effect === 'allow') return ALLOW;
    if (verdict.effect === 'deny')
      return {
        verdict: 'deny',
        message: `clawpod guard: group "${ctx.group}" may not ${summaryOf(action)}${verdict.rule ? ` (rule ${verdict.rule.kind} ${verdict.rule.pattern}: deny, ${verdict.rule.source})` : ''}`,
      };
    return this.open(action, ctx);
  }

  /**
   * Phase-2 entry point (the Claude permission callback, codex approvals): the decision as one
   * promise, allowed at once when a rule allows.
   */
  ask(action: GuardAction, ctx: GuardContext): Promise<GuardOutcome> {
    const r = this.request(action, ctx);
    if (r.verdict === 'allow') return Promise.resolve({ allowed: true, via: 'rule' });
    if (r.verdict === 'deny')
      return Promise.resolve({ allowed: false, via: 'rule', message: r.message });
    return r.decided;
  }

  /**
   * An answer from `by` (a sender id; `owner` for the API and the CLI). The first valid answer
   * decides; a later one is told it was decided, and by whom.
   */
  answer(id: number, decision: ApprovalDecision, by: string): AnswerResult {
    const { store, clock } = this.deps;
    const before = store.approvals.get(id);
    if (!before) return { ok: false, code: 'not_found', message: `no approval #${id}` };
    if (!this.mayAnswer(before, by))
      return {
        ok: false,
        code: 'forbidden',
        message: `${by} may not answer approval #${id} (only the owner and group "${before.group}"'s approvers may)`,
      };
    const status = decision === 'deny' ? 'denied' : 'allowed';
    const won = store.tx(() => {
      if (!store.approvals.decide(id, { status, decision, by }, clock.now())) return false;
      if (decision === 'always') this.writeAlways(before, by);
      return true;
    });
    const after = store.approvals.get(id)!;
    if (!won) return { ok: false, code: 'decided', message: decidedText(after), approval: after };
    this.settle(after);
    return { ok: true, approval: after };
  }

  /** Whether `sender` may answer this approval: the owner, or one of its group's approvers. */
  mayAnswer(a: Pick<ApprovalRecord, 'group'>, sender: string): boolean {
    const { config } = this.deps;
    if (sender === OWNER_SENDER || config.file.owner.ids.includes(sender)) return true;
    return (config.file.guard.approvers[a.group] ?? []).some((x) => x.sender === sender);
  }

  get(id: number): ApprovalRecord {
    const a = this.deps.store.approvals.get(id);
    if (!a) throw new GuardError('not_found', `no approval #${id}`);
    return a;
  }

  list(opts: Parameters<Store['approvals']['list']>[0]): ApprovalRecord[] {
    return this.deps.store.approvals.list(opts);
  }

  /** The owner's live rules (an `always` answer, or added by hand). */
  rules(group?: string): GuardRuleRecord[] {
    return this.deps.store.guardRules.live(group);
  }

  addRule(
    r: { group: string; kind: ActionKind; pattern: string; effect: RuleEffect },
    by = 'owner',
  ): GuardRuleRecord {
    const rule = this.deps.store.guardRules.add({
      ...r,
      createdAt: this.deps.clock.now(),
      createdBy: by,
      approvalId: null,
    });
    this.layerCache.clear();
    return rule;
  }

  revokeRule(id: number): void {
    if (!this.deps.store.guardRules.revoke(id, this.deps.clock.now()))
      throw new GuardError('not_found', `no live rule #${id}`);
    this.layerCache.clear();
  }

  /**
   * Tool-name patterns that some rule of the group (owner's, config's, default) may ask about
   * or deny: a harness sends calls of these to the host even when it would decide the tool
   * itself (StartRequest.guardedTools).
   */
  guardedTools(group: string): string[] {
    const names = new Set<string>();
    for (const layer of this.layers(group))
      for (const r of layer)
        if (r.kind === 'tool' && r.effect !== 'allow') names.add(toolRuleName(r.pattern));
    return [...names].sort();
  }

  /** Egress entries the owner allowed for a group (merged with config `egress.groups`). */
  egressEntries(group: string): string[] {
    return this.layers(group)[0]!
      .filter((r) => r.kind === 'egress' && r.effect === 'allow')
      .map((r) => r.pattern);
  }

  /** Owner rules, config rules, defaults: the layers `decide` reads, cached per group. */
  private layers(group: string): ReadonlyArray<readonly Rule[]> {
    let l = this.layerCache.get(group);
    if (!l) {
      const { store, config } = this.deps;
      const owner: Rule[] = store.guardRules.live(group).map((r) => ({
        kind: r.kind as ActionKind,
        pattern: r.pattern,
        effect: r.effect,
        source: 'owner',
        id: r.id,
      }));
      const cfg = config.file.guard.rules;
      const configured: Rule[] = [...(cfg[group] ?? []), ...(cfg['*'] ?? [])].map((r) => ({
        ...r,
        source: 'config',
      }));
      const isMain = store.groups.get(group)?.isMain ?? false;
      l = [owner, configured, defaultRules(isMain)];
      this.layerCache.set(group, l);
    }
    return l;
  }

  private open(action: GuardAction, ctx: GuardContext): GuardRequest {
    const { store, clock, config } = this.deps;
    const key = dedupeKey(ctx.group, action);
    let record = store.approvals.pendingByKey(key);
    const fresh = !record;
    if (!record) {
      const now = clock.now();
      const taint = [...this.taint.of(ctx.runId)];
      const expiresAt = now + (config.file.guard.expiry[action.kind] ?? config.file.guard.expiryMs);
      const code = action.kind === 'sender' ? pairingCode() : null;
      const id = store.approvals.add({
        group: ctx.group,
        runId: ctx.runId ?? null,
        kind: action.kind,
        subject: subjectOf(action),
        effect: action,
        card: '',
        taint,
        dedupeKey: key,
        askedIn: null,
        code,
        requestedAt: now,
        expiresAt,
      });
      const card = renderCard({
        id,
        group: ctx.group,
        action,
        taint,
        expiresAt,
        timezone: config.timezone,
        code,
      });
      const askedIn = this.whereToAsk(ctx);
      store.approvals.setCard(id, card, askedIn);
      record = store.approvals.get(id)!;
      this.deliver(record, ctx, action);
      this.arm(record);
      this.deps.log.info(
        { group: ctx.group, run: ctx.runId, approval: id, kind: action.kind, askedIn },
        'approval asked',
      );
    }
    const id = record.id;
    const decided = new Promise<GuardOutcome>((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
    // After the waiter is in place: a listener may answer at once (a test, an auto-approver).
    if (fresh) this.deps.bus.emit('approval', record);
    return { verdict: 'ask', approval: record, decided };
  }

  /**
   * The conversation's chat when the owner is in it (main's chats, the web/CLI/API chats, or a
   * chat where an owner id has written), else the chat the owner is told things in
   * (ownerChat); null when there is none.
   */
  private whereToAsk(ctx: GuardContext): string | null {
    const { store, config } = this.deps;
    const main = store.groups.main();
    const chat = ctx.chat;
    if (chat) {
      const owners = [OWNER_SENDER, ...config.file.owner.ids];
      if (main?.chats.includes(chat) || store.messages.hasSenderIn(chat, owners)) return chat;
    }
    return ownerChat(store, config.file.owner.ids);
  }

  /** The card where the owner is; one short note in the conversation when that is elsewhere. */
  private deliver(a: ApprovalRecord, ctx: GuardContext, action: GuardAction): void {
    const { outbox } = this.deps;
    if (a.askedIn)
      outbox.enqueue({ key: `approval:${a.id}:card`, chatId: a.askedIn, text: a.card });
    else
      this.deps.log.warn(
        { approval: a.id },
        'no chat to ask the owner in; answer with clawpod approvals',
      );
    // Not to a mail conversation: an outside correspondent is not told about the owner's
    // inbox (a pairing code still goes to the sender who asked for it).
    const outside = ctx.chat?.startsWith('mail:') && action.kind !== 'sender';
    if (ctx.chat && ctx.chat !== a.askedIn && !outside) {
      const text =
        action.kind === 'sender'
          ? `🔒 This conversation does not know you yet. The owner has been asked; your code is ${a.code}.`
          : `⏳ Waiting for the owner's approval #${a.id} (${summaryOf(action)}).`;
      outbox.enqueue({ key: `approval:${a.id}:wait`, chatId: ctx.chat, text });
    }
    outbox.kick();
  }

  private arm(a: ApprovalRecord): void {
    const { clock, config } = this.deps;
    if (this.state === 'stopped') return;
    const t: Timers = {};
    const delay = Math.min(Math.max(0, a.expiresAt - clock.now()), MAX_TIMER_MS);
    t.expiry = clock.setTimeout(() => this.expire(a.id), delay);
    const approvers = config.file.guard.approvers[a.group] ?? [];
    const fallbackAt = a.requestedAt + config.file.guard.fallbackAfterMs;
    if (approvers.length && fallbackAt < a.expiresAt) {
      t.fallback = clock.setTimeout(
        () => this.fallback(a.id),
        Math.max(0, fallbackAt - clock.now()),
      );
    }
    this.timers.set(a.id, t);
  }

  /** The owner has not answered: the group's approvers get the card too. */
  private fallback(id: number): void {
    const a = this.deps.store.approvals.get(id);
    if (!a || a.status !== 'pending') return;
    for (const x of this.deps.config.file.guard.approvers[a.group] ?? []) {
      if (x.chat === a.askedIn) continue;
      this.deps.outbox.enqueue({
        key: `approval:${id}:fallback:${x.chat}`,
        chatId: x.chat,
        text: `${a.card}\n(The owner has not answered; you are an approver of group "${a.group}".)`,
      });
    }
    this.deps.outbox.kick();
  }

  private expire(id: number): void {
    const { store, clock } = this.deps;
    const won = store.approvals.decide(
      id,
      { status: 'expired', decision: 'deny', by: 'expiry' },
      clock.now(),
    );
    if (won) this.settle(store.approvals.get(id)!);
  }

  /** After the one decision: timers off, the hook, the waiters, the event, a line in the chat. */
  private settle(a: ApprovalRecord): void {
    const t = this.timers.get(a.id);
    if (t?.expiry !== undefined) this.deps.clock.clearTimeout(t.expiry);
    if (t?.fallback !== undefined) this.deps.clock.clearTimeout(t.fallback);
    this.timers.delete(a.id);
    if (a.status === 'allowed') {
      try {
        this.hooks.get(a.kind as ActionKind)?.(a, a.decision!);
      } catch (err) {
        this.deps.log.error({ err, approval: a.id }, 'approval hook failed');
      }
    }
    const outcome: GuardOutcome =
      a.status === 'allowed'
        ? { allowed: true, via: 'approval', approval: a.id, decision: a.decision! }
        : {
            allowed: false,
            via: a.status === 'expired' ? 'expired' : 'approval',
            approval: a.id,
            message:
              a.status === 'expired'
                ? `clawpod guard: approval #${a.id} expired without an answer; treated as denied`
                : `clawpod guard: the owner denied approval #${a.id} (${summaryOf(a.effect as GuardAction)})`,
          };
    for (const w of this.waiters.get(a.id) ?? []) w(outcome);
    this.waiters.delete(a.id);
    if (a.askedIn) {
      this.deps.outbox.enqueue({
        key: `approval:${a.id}:decided`,
        chatId: a.askedIn,
        text: decidedText(a),
      });
      this.deps.outbox.kick();
    }
    this.deps.log.info(
      { group: a.group, approval: a.id, status: a.status, decision: a.decision, by: a.decidedBy },
      'approval decided',
    );
    this.deps.bus.emit('approval', a);
  }

  /** `always`: the rule (an egress host joins the group's list) or the raised cap. */
  private writeAlways(a: ApprovalRecord, by: string): void {
    const { store, clock } = this.deps;
    const action = a.effect as GuardAction;
    if (action.kind === 'budget') {
      store.budgetCaps.set({
        scope: action.scope,
        ref: action.ref,
        period: action.period,
        unit: action.unit,
        cap: action.raiseTo,
        updatedAt: clock.now(),
      });
      return;
    }
    const rule = alwaysRule(action);
    if (!rule) return;
    store.guardRules.add({
      group: a.group,
      kind: rule.kind,
      pattern: rule.pattern,
      effect: 'allow',
      createdAt: clock.now(),
      createdBy: `approval #${a.id} (${by})`,
      approvalId: a.id,
    });
    this.layerCache.delete(a.group);
  }
}

/** One line saying how an approval was decided. */
export function decidedText(a: ApprovalRecord): string {
  if (a.status === 'pending') return `Approval #${a.id} is still waiting for an answer.`;
  if (a.status === 'expired') return `⌛ Approval #${a.id} expired without an answer: denied.`;
  const how =
    a.decision === 'always' ? 'allowed always' : a.decision === 'once' ? 'allowed once' : 'denied';
  return `${a.status === 'allowed' ? '✅' : '⛔'} Approval #${a.id} was ${how} by ${a.decidedBy ?? '?'}.`;
}

/** A short code an unknown sender can quote (no look-alike letters). */
function pairingCode(): string {
  const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}
