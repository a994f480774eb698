import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from 'pino';
import { secureDataDir } from './config/data-dir.js';
import type { Config } from './config/load.js';
import type { Channel, ChannelFactory } from './channels/channel.js';
import { builtinChannels } from './channels/index.js';
import { ChannelSet } from './channels/registry.js';
import { ApprovalCards } from './delivery/approval-cards.js';
import { OutboxWorker } from './delivery/outbox-worker.js';
import { DeadLetterError, DeadLetterService } from './delivery/dead-letter-service.js';
import { watchStorage } from './delivery/storage-notices.js';
import type { DeadLetter } from './store/dead-letters.js';
import { createEgress, type Egress } from './egress/egress.js';
import { EventBus } from './events/bus.js';
import { GroupService } from './groups/group-service.js';
import { mountPolicyFor } from './groups/group-mounts.js';
import { AllowlistWatch } from './sandbox/allowlist-watch.js';
import { ensureApiToken } from './http/api-token.js';
import { createApp } from './http/app.js';
import { hostChecker } from './http/host-check.js';
import { createMetrics } from './http/metrics.js';
import { GroupQueue } from './queue/group-queue.js';
import { newChatNotice } from './router/new-chat-notice.js';
import { Router } from './router/router.js';
import { builtinHarnesses } from './agent/harnesses/index.js';
import { LauncherRegistry, type AgentLauncher } from './runs/agent-process.js';
import { decideLegacyWakes, MessageJob } from './runs/message-job.js';
import { SandboxLauncher } from './runs/sandbox-launcher.js';
import { sandboxUser } from './runs/sandbox-launch.js';
import { SessionPool } from './runs/session-pool.js';
import { STOPPED_BY_OWNER, type TurnDeps } from './runs/turn.js';
import type { DoctorFinding } from './http/ui-routes.js';
import { IpcHost } from './ipc/ipc-host.js';
import { RequestHandler } from './ipc/request-handler.js';
import { Delegations } from './delegation/delegations.js';
import { taskIpc } from './ipc/task-ops.js';
import { MemoryOps } from './ipc/memory-ops.js';
import { HistorySearch } from './memory/history-search.js';
import { MemoryFiles } from './memory/memory-file.js';
import { SearchIndexer } from './memory/search-indexer.js';
import { systemClock, type Clock } from './clock.js';
import type { RuntimeFactory } from './sandbox/registry.js';
import { assertIdRangeFree, deprecatedIdKeys } from './sandbox/sandbox-ids.js';
import { createScheduling, type Scheduling } from './tasks/scheduling.js';
import { buildStatus, type DaemonStatus } from './status.js';
import { Store } from './store/store.js';
import { version } from './version.js';
import { createHooks } from './webhooks/hooks.js';
import { OWNER } from './tasks/task-service.js';
import { Budgets } from './guard/budgets.js';
import { egressGuard } from './guard/egress-gate.js';
import { Guard } from './guard/guard.js';
import { intakeGuard } from './guard/intake.js';
import { IpcGate } from './guard/ipc-gate.js';
import { turnGuard } from './guard/turn-gate.js';
import { installShippedSkills } from './skills/shipped.js';

export interface DaemonOptions {
  config: Config;
  log: Logger;
  /** Launchers to register in addition to (or instead of) the built-in harnesses'. */
  launchers?: AgentLauncher[];
  /** The channel kinds to create (default `builtinChannels`); tests add or swap their own. */
  channels?: readonly ChannelFactory[];
  /** The sandbox runtimes to choose from (default `builtinRuntimes`). */
  runtimes?: readonly RuntimeFactory[];
  /**
   * The clock of the scheduler, the queue's retries, agent sessions' idle expiry and turn time
   * limits (tests drive it with a fake one); default the system clock.
   */
  clock?: Clock;
  /** The doctor checks, for `GET /api/doctor` (the CLI passes its own); absent: 503. */
  doctor?: () => Promise<DoctorFinding[]>;
}

type DaemonState =
  | { name: 'created' }
  | { name: 'running'; startedAt: number; server: ServerType; port: number }
  | { name: 'stopping' }
  | { name: 'stopped' };

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Composition root: builds every part from config, starts them in order, stops them in reverse. */
export class Daemon {
  readonly store: Store;
  readonly bus = new EventBus();
  readonly groups: GroupService;
  readonly launchers = new LauncherRegistry();
  readonly sandbox: SandboxLauncher;
  /** Credential/egress proxy (one socket per run) and the OAuth refresher. */
  readonly egress: Egress;
  readonly ipc: IpcHost;
  readonly queue: GroupQueue;
  /** The live agent sessions (warm processes that answer turns). */
  readonly pool: SessionPool;
  /** What every job's turn needs (message turns and task occurrences alike). */
  readonly turns: TurnDeps;
  readonly router: Router;
  readonly outbox: OutboxWorker;
  /** Buttons on approval cards, and the cards' edit once decided. */
  private readonly cards: ApprovalCards;
  /** The owner's retry/discard of dead letters (API and CLI). */
  readonly deadLetters: DeadLetterService;
  /** Scheduled tasks: the timer loop, and the TaskService behind API, CLI and IPC. */
  readonly scheduling: Scheduling;
  /** History search (IPC, API, CLI) and the indexer that keeps it close behind the store. */
  readonly history: HistorySearch;
  private readonly searchIndexer: SearchIndexer;
  /** A change of the mount allowlist ends the live sessions of groups with mounts. */
  private readonly allowlistWatch: AllowlistWatch;
  /** Allow / ask / deny for privileged actions, and the approvals (docs/approvals.md). */
  readonly guard: Guard;
  readonly budgets: Budgets;
  /** The `delegate` tool: sub-tasks handed to other groups' agents (docs/delegation.md). */
  readonly delegations: Delegations;
  private readonly channelList: Channel[] = [];
  readonly channels = new ChannelSet(this.channelList);
  private state: DaemonState = { name: 'created' };
  private readonly log: Logger;
  private unwatchStorage?: () => void;

  constructor(private readonly opts: DaemonOptions) {
    const { config } = opts;
    this.log = opts.log;
    for (const dir of [
      config.paths.home,
      config.paths.groups,
      config.paths.ipc,
      config.paths.sessions,
      config.paths.logs,
    ]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    const { storage } = config.file;
    this.store = Store.open(config.paths.db, {
      synchronous: storage.synchronous,
      busyTimeoutMs: storage.busyTimeoutMs,
      groupCommit: storage.groupCommit,
      lockWaitMs: storage.lockWaitMs,
    });
    for (const problem of secureDataDir(config.paths)) this.log.warn(problem);
    this.groups = new GroupService(this.store, config.paths, undefined, mountPolicyFor(config));
    this.allowlistWatch = new AllowlistWatch(
      mountPolicyFor(config).allowlistPath,
      () => {
        for (const s of this.pool.list())
          if (this.store.groups.get(s.meta.group)?.mounts.length)
            s.close('the mount allowlist changed');
      },
      this.log.child({ part: 'sandbox' }),
    );
    const clock = opts.clock ?? systemClock;
    // The guard asks through the outbox, built below (it sends nothing before start).
    this.guard = new Guard({
      config,
      store: this.store,
      clock,
      bus: this.bus,
      outbox: { enqueue: (item) => this.outbox.enqueue(item), kick: () => this.outbox.kick() },
      log: this.log.child({ part: 'guard' }),
    });
    this.budgets = new Budgets({
      config,
      store: this.store,
      clock,
      guard: this.guard,
      notifyOwner: (key, text) => this.outbox.notifyOwner(key, text),
      log: this.log.child({ part: 'budgets' }),
    });
    this.egress = createEgress({
      config,
      log: this.log.child({ part: 'egress' }),
      notifyOwner: (key, text) => this.outbox.notifyOwner(key, text),
      guard: egressGuard(this.guard, (session) => this.pool.byId(session)?.context),
    });
    this.sandbox = new SandboxLauncher({
      egress: this.egress,
      config,
      log: this.log.child({ part: 'sandbox' }),
      harnesses: builtinHarnesses.map((h) => h.spec),
      runtimes: opts.runtimes,
      beforeRun: (folder) => this.ipc.ensureGroup(folder),
      guardedTools: (folder) => this.guard.guardedTools(folder),
      allMounts: () => this.store.groups.allMounts(),
      watchAllowlist: () => this.allowlistWatch.arm(),
    });
    for (const l of [...this.sandbox.launchers(), ...(opts.launchers ?? [])])
      this.launchers.register(l);
    this.cards = new ApprovalCards({
      store: this.store,
      channels: this.channels,
      bus: this.bus,
      log: this.log.child({ part: 'guard' }),
    });
    this.outbox = new OutboxWorker({
      store: this.store,
      channels: this.channels,
      bus: this.bus,
      log: this.log.child({ part: 'outbox' }),
      retry: config.file.retry,
      actions: this.cards,
      ownerIds: config.file.owner.ids,
    });
    this.deadLetters = new DeadLetterService({
      store: this.store,
      retryRun: (dl) => this.retryRun(dl),
      kickOutbox: () => this.outbox.kick(),
      log: this.log.child({ part: 'deadletters' }),
    });
    // A group turned `warm` gets its session started ahead now, not at the next restart.
    this.groups.onChange((g) => this.pool?.prewarm(g));
    this.pool = new SessionPool({
      config,
      store: this.store,
      launchers: this.launchers,
      clock,
      log: this.log.child({ part: 'sessions' }),
    });
    this.queue = new GroupQueue({
      maxConcurrent: config.file.limits.maxConcurrentRuns,
      retry: config.file.retry,
      clock,
      log: this.log.child({ part: 'queue' }),
    });
    this.turns = {
      config,
      store: this.store,
      launchers: this.launchers,
      pool: this.pool,
      outbox: this.outbox,
      channels: this.channels,
      bus: this.bus,
      clock,
      log: this.log.child({ part: 'runs' }),
      guard: turnGuard(this.guard, this.budgets),
    };
    this.scheduling = createScheduling({
      turns: this.turns,
      queue: this.queue,
      log: this.log.child({ part: 'scheduler' }),
      clock: opts.clock,
      preCheck: (task, group) => this.sandbox.runPreCheck(task.preCheck!, group),
    });
    const taskOps = taskIpc(this.scheduling.tasks, config.timezone);
    this.history = new HistorySearch({ store: this.store, timezone: config.timezone });
    this.searchIndexer = new SearchIndexer({
      store: this.store,
      bus: this.bus,
      log: this.log.child({ part: 'search' }),
      clock,
    });
    this.delegations = new Delegations({
      config,
      store: this.store,
      clock,
      bus: this.bus,
      log: this.log.child({ part: 'delegation' }),
      turns: this.turns,
      queue: this.queue,
      guard: this.guard,
      answerLater: (group, id, result) => this.ipc.answerFinal(group, id, result),
      wake: (group, chat) => this.queue.enqueue(this.messageJob(group, chat)),
    });
    // clawpod's own tools go through the guard; a held request is answered `pending` first.
    const gate = new IpcGate({
      guard: this.guard,
      inner: new RequestHandler({
        groupsDir: config.paths.groups,
        filesDir: join(config.paths.home, 'outbox-files'),
        store: this.store,
        groups: this.groups,
        outbox: this.outbox,
        tasks: taskOps,
        memory: new MemoryOps({
          history: this.history,
          files: new MemoryFiles({
            groupsDir: config.paths.groups,
            timezone: config.timezone,
            now: () => clock.now(),
          }),
          harnessOf: (g) => this.store.groups.get(g)?.harness ?? config.file.defaults.harness,
          timezone: config.timezone,
          now: () => clock.now(),
          log: this.log.child({ part: 'memory' }),
        }),
        delegation: this.delegations,
        log: this.log.child({ part: 'ipc' }),
      }),
      files: taskOps,
      store: this.store,
      clock,
      timezone: config.timezone,
      maxDailyFires: config.file.guard.maxDailyFires,
      expected: (group) => this.budgets.expected(group),
      answerLater: (group, id, result) => this.ipc.answerFinal(group, id, result),
      log: this.log.child({ part: 'ipc' }),
    });
    this.ipc = new IpcHost({
      ipcRoot: config.paths.ipc,
      store: this.store,
      log: this.log.child({ part: 'ipc' }),
      tasks: gate,
      notifyOwner: (key, text) => this.outbox.notifyOwner(key, text),
      // A root daemon gives the queue dirs it recreates to the group's sandbox uid.
      ownerOf: (folder) => {
        const g = process.getuid?.() === 0 ? this.store.groups.get(folder) : undefined;
        return g && sandboxUser(config, g);
      },
      conversationOf: (group, token) => {
        const ctx = this.pool.byToken(group, token)?.context;
        return ctx && { chat: ctx.chat, runId: ctx.runId };
      },
      handler: gate,
    });
    this.router = new Router({
      store: this.store,
      bus: this.bus,
      log: this.log.child({ part: 'router' }),
      assistantName: config.file.assistant.name,
      ownerIds: config.file.owner.ids,
      groupsDir: config.paths.groups,
      attachmentMaxBytes: config.file.attachments.maxBytes,
      onWake: (group, chat) => this.queue.enqueue(this.messageJob(group, chat)),
      // Keyed by chat: the outbox keeps one notice per key, so the owner hears of a chat once.
      onNewChat: (msg) => this.outbox.notifyOwner(`newchat:${msg.chatId}`, newChatNotice(msg)),
      guard: intakeGuard({
        guard: this.guard,
        store: this.store,
        groups: this.groups,
        outbox: this.outbox,
        onWake: (group, chat) => this.queue.enqueue(this.messageJob(group, chat)),
        refreshCard: (a) => void this.cards.refresh(a),
        log: this.log.child({ part: 'guard' }),
      }),
    });
  }

  /** The port the HTTP server listens on (after start). */
  get port(): number {
    return this.state.name === 'running' ? this.state.port : 0;
  }

  status(): DaemonStatus {
    return buildStatus({
      store: this.store,
      version,
      home: this.opts.config.paths.home,
      runtime: {
        configured: this.opts.config.file.runtime,
        ...this.sandbox.selection(this.opts.config.file.runtime),
      },
      harnesses: this.launchers.names(),
      sessions: this.pool.list(),
      daemon:
        this.state.name === 'running'
          ? { pid: process.pid, startedAt: this.state.startedAt }
          : undefined,
      queue: this.queue,
      channels: this.channelList,
      ipc: this.ipc.stats(),
    });
  }

  async start(): Promise<void> {
    if (this.state.name !== 'created')
      throw new Error(`cannot start a daemon that is ${this.state.name}`);
    const { config } = this.opts;
    const { sandbox } = config.file;
    assertIdRangeFree({ base: sandbox.uidBase, count: sandbox.uidCount });
    for (const warning of deprecatedIdKeys(sandbox)) this.log.warn(warning);
    this.unwatchStorage = watchStorage({
      health: this.store.health,
      outbox: this.outbox,
      log: this.log.child({ part: 'storage' }),
    });
    const token = ensureApiToken(config.paths.apiToken);
    this.groups.ensureMain();
    await installShippedSkills({
      home: config.paths.home,
      globalDir: join(config.paths.groups, 'global'),
    }).then(
      (copied) =>
        copied.length && this.log.info({ copied }, 'agent skills installed in groups/global'),
      (err: unknown) => this.log.warn({ err }, 'shipped agent skills not installed'),
    );
    await this.sandbox.init();
    const now = Date.now();
    const interrupted = this.store.runs.interruptStale(now);
    if (interrupted)
      this.log.warn({ interrupted }, 'runs interrupted by the last stop will be re-run');
    this.store.agentSessions.closeStale(now);
    const decided = decideLegacyWakes(this.turns);
    if (decided) this.log.info({ messages: decided }, 'decided which older pending messages wake');

    const made = await this.createChannels();

    const { host, port, allowNonLoopback } = config.file.http;
    if (!LOOPBACK.has(host)) {
      if (!allowNonLoopback) {
        throw new Error(
          `${config.paths.configFile}: http.host ${host} is not loopback; set http.allowNonLoopback: true to expose the API`,
        );
      }
      this.log.warn(
        { host },
        'HTTP API bound to a NON-LOOPBACK address: anyone who can reach it and holds the token controls this host',
      );
    }
    let boundPort = port;
    const app = createApp({
      token,
      log: this.log.child({ part: 'http' }),
      hostAllowed: hostChecker({
        bindHost: host,
        port: () => boundPort,
        allowedHosts: config.file.http.allowedHosts,
      }),
      timezone: config.timezone,
      version,
      store: this.store,
      bus: this.bus,
      groups: this.groups,
      tasks: this.scheduling.tasks,
      history: this.history,
      metrics: createMetrics({
        bus: this.bus,
        store: this.store,
        queue: this.queue,
        channels: () => this.channelList,
        sessions: () => this.pool.list().map((x) => ({ state: x.state.name })),
        extra: this.egress.proxy.metrics(),
      }),
      status: () => this.status(),
      deadLetters: this.deadLetters,
      channelRoutes: made.map(({ factory, channel }) => ({
        name: factory,
        routes: channel.routes?.() ?? {},
      })),
      ui: {
        groupsDir: config.paths.groups,
        defaultHarness: config.file.defaults.harness,
        stopRun: (runId) => this.pool.stopRun(runId, STOPPED_BY_OWNER),
        doctor: this.opts.doctor,
        egressRefusals: () => this.egress.proxy.recentRefusals(),
      },
      approvals: { guard: this.guard, budgets: this.budgets },
      hooks: createHooks({
        config,
        nonces: this.store.webhookNonces,
        log: this.log.child({ part: 'webhooks' }),
        accepting: () => this.state.name === 'running',
        receive: (msg) => this.router.receive(msg),
        runTask: (id) => this.scheduling.tasks.runNow(OWNER, id),
        ensureBound: (group, chat) => {
          if (!this.store.groups.groupForChat(chat)) this.groups.bind(group, chat);
          return this.store.groups.groupForChat(chat);
        },
        ensureGroup: (group) => {
          if (!this.store.groups.get(group)) this.groups.add({ name: group });
        },
      }),
    });
    const server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
        boundPort = info.port;
        resolve(s);
      });
      s.once('error', reject);
    });
    // Channels connect once the server listens: a platform may post to its route at once.
    try {
      for (const { channel } of made) await this.connectChannel(channel);
    } catch (err) {
      (server as Server).closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    }
    this.cards.start();
    this.outbox.start();
    this.guard.start();
    this.egress.start();
    this.ipc.start();
    this.searchIndexer.start();
    this.recoverPending();
    const resumed = this.delegations.recover();
    if (resumed) this.log.info({ resumed }, 'delegations owed to a chat run again');
    for (const g of this.store.groups.list()) this.pool.prewarm(g);
    this.scheduling.scheduler.start();
    this.state = { name: 'running', startedAt: Date.now(), server, port: boundPort };
    const shownHost = isIP(host) === 6 ? `[${host}]` : host;
    this.log.info(
      { url: `http://${shownHost}:${boundPort}/`, version, harnesses: this.launchers.names() },
      'clawpod is running',
    );
  }

  /**
   * The owner retries a run's dead letter: a chat's batch is replayed as a turn of its own (the
   * chat's cursor is already past it); a task occurrence runs again now.
   */
  private retryRun(dl: DeadLetter): void {
    if (dl.chatId !== null && dl.seqStart !== null && dl.seqEnd !== null) {
      const g = this.store.groups.groupForChat(dl.chatId);
      if (!g)
        throw new DeadLetterError(
          'not_supported',
          `dead letter #${dl.id}: ${dl.chatId} is bound to no group any more; bind it first (clawpod groups bind <group> ${dl.chatId})`,
        );
      const batch = {
        from: 'range' as const,
        seqStart: dl.seqStart,
        seqEnd: dl.seqEnd,
        ref: `dl${dl.id}`,
      };
      this.queue.enqueue(
        new MessageJob({ ...this.turns, queue: this.queue }, g.folder, dl.chatId, batch),
      );
      return;
    }
    const taskId = this.store.runs.get(dl.ref)?.taskId ?? /^task:([^:]+):/.exec(dl.ref)?.[1];
    if (!taskId)
      throw new DeadLetterError(
        'not_supported',
        `dead letter #${dl.id} names no chat batch and no task to run again`,
      );
    this.scheduling.tasks.runNow(OWNER, taskId);
  }

  /** Creates the configured channels (none connects yet); a skipped one is logged with why. */
  private async createChannels(): Promise<Array<{ factory: string; channel: Channel }>> {
    const { config } = this.opts;
    const blocks = config.file.channels as Record<string, unknown>;
    const made: Array<{ factory: string; channel: Channel }> = [];
    for (const factory of this.opts.channels ?? builtinChannels) {
      const settings = factory.settings.safeParse(blocks[factory.name]);
      const created = settings.success
        ? await factory.create({
            config,
            settings: settings.data,
            log: this.log.child({ channel: factory.name }),
            notifyOwner: (key, text) => this.outbox.notifyOwner(key, text),
            accepting: () => this.state.name === 'running',
          })
        : { skip: `channels.${factory.name}: ${settings.error.issues[0]?.message}` };
      if ('skip' in created) {
        // A block the owner wrote but that cannot start (a secret unset) is a problem to see.
        const block = blocks[factory.name] as { enabled?: boolean } | undefined;
        if (block && block.enabled !== false)
          this.log.warn(
            { channel: factory.name, reason: created.skip },
            'channel skipped: its settings are incomplete (`clawpod doctor` says what to set)',
          );
        else this.log.info({ channel: factory.name, reason: created.skip }, 'channel skipped');
        continue;
      }
      made.push({ factory: factory.name, channel: created });
    }
    return made;
  }

  private async connectChannel(channel: Channel): Promise<void> {
    await channel.connect(this.router);
    this.channelList.push(channel);
    const health = channel.health();
    if (health.connected) this.log.info({ channel: channel.name }, 'channel connected');
    else
      this.log.warn(
        { channel: channel.name, err: health.lastError },
        'channel started but not connected (see clawpod status)',
      );
  }

  /** The next turn of a chat's conversation. */
  private messageJob(group: string, chat: string): MessageJob {
    return new MessageJob({ ...this.turns, queue: this.queue }, group, chat);
  }

  /** Chats with unanswered waking messages (after a restart) get their turn. */
  private recoverPending(): void {
    for (const chat of this.store.messages.chatsWithWork()) {
      const g = this.store.groups.groupForChat(chat);
      if (g) this.queue.enqueue(this.messageJob(g.folder, chat));
    }
  }

  /** Stops intake, lets running turns finish up to the shutdown timeout, then stops everything. */
  async stop(): Promise<void> {
    if (this.state.name !== 'running') {
      if (this.state.name === 'created') this.store.close();
      this.state = { name: 'stopped' };
      return;
    }
    const { server } = this.state;
    this.state = { name: 'stopping' };
    this.router.stopIntake();
    this.scheduling.scheduler.stop();
    // Runs waiting on an approval stop waiting (their approvals stay pending for the restart).
    this.guard.stop();
    this.cards.stop();
    const timeoutMs = this.opts.config.file.shutdownTimeoutMs;
    // Callers waiting on a delegate are answered now: the queue will not start it.
    this.delegations.stop();
    // Idle sessions end now, busy ones after their turn; the queue starts nothing new.
    const sessionsGone = this.pool.drain(timeoutMs + 2000);
    const still = await this.queue.shutdown(timeoutMs);
    if (still.length) {
      this.log.warn(
        { lanes: still },
        'turns still running at the shutdown timeout; ending them (their input stays pending)',
      );
      this.pool.killAll('daemon shutdown');
      await this.queue.shutdown(2000);
    }
    await sessionsGone;
    this.store.runs.interruptStale(Date.now());
    this.scheduling.scheduler.close();
    await this.egress.stop();
    // Before channels and the store close: a send in flight is recorded, not sent again.
    await this.outbox.stop(timeoutMs);
    await this.ipc.stop();
    this.searchIndexer.stop();
    for (const c of this.channelList)
      await c
        .disconnect()
        .catch((err: unknown) => this.log.warn({ err, channel: c.name }, 'disconnect failed'));
    (server as Server).closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.unwatchStorage?.();
    this.allowlistWatch.close();
    this.store.close();
    this.state = { name: 'stopped' };
    this.log.info('clawpod stopped');
  }
}
