import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from 'pino';
import type { Config } from './config/load.js';
import './channels/index.js';
import type { Channel } from './channels/channel.js';
import { ChannelSet, channelFactories } from './channels/registry.js';
import { OutboxWorker } from './delivery/outbox-worker.js';
import { DeadLetterError, DeadLetterService } from './delivery/dead-letter-service.js';
import { watchStorage } from './delivery/storage-notices.js';
import type { DeadLetter } from './store/dead-letters.js';
import { createEgress, type Egress } from './egress/egress.js';
import { EventBus } from './events/bus.js';
import { GroupService } from './groups/group-service.js';
import { ensureApiToken } from './http/api-token.js';
import { createApp } from './http/app.js';
import { createMetrics } from './http/metrics.js';
import { GroupQueue } from './queue/group-queue.js';
import { Router } from './router/router.js';
import { RunExecutor } from './runs/run-executor.js';
import { claudeCredentialProblem } from './runs/harness-credentials.js';
import { codexCredentialProblem } from './runs/codex-credentials.js';
import { RunnerRegistry, type Runner } from './runs/runner.js';
import { SandboxRunners } from './runs/sandbox-runner.js';
import { IpcHost } from './ipc/ipc-host.js';
import { RequestHandler } from './ipc/request-handler.js';
import { taskIpc } from './ipc/task-ops.js';
import './sandbox/index.js';
import type { SchedulerClock } from './scheduler/clock.js';
import { createScheduling, type Scheduling } from './scheduler/scheduling.js';
import { buildStatus, type DaemonStatus } from './status.js';
import { Store } from './store/store.js';
import { version } from './version.js';
import { createHooks } from './webhooks/hooks.js';
import { OWNER } from './scheduler/task-service.js';

export interface DaemonOptions {
  config: Config;
  log: Logger;
  /** Runners to register in addition to the built-in harnesses. */
  runners?: Runner[];
  /** The scheduler's clock (tests drive it with a fake one); default the system clock. */
  schedulerClock?: SchedulerClock;
}

type DaemonState =
  | { name: 'created' }
  | { name: 'running'; startedAt: number; server: ServerType; port: number }
  | { name: 'stopping' }
  | { name: 'stopped' };

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Retrying a run dead letter: not possible with today's run path. Rewinding the group's cursor
 * would re-run newer messages too, and the executor can only run "everything after the cursor",
 * not a given seq range. Answered as 409 not_supported; the letter stays pending.
 * TODO(lead): with the new run path, enqueue a fresh run over exactly seqStart..seqEnd of
 * `dl.group` (messages) or the task occurrence (`dl.ref`, task runs), then return.
 */
function retryRunDeadLetter(dl: DeadLetter): never {
  throw new DeadLetterError(
    'not_supported',
    `dead letter #${dl.id} is a failed run; retrying runs is not supported yet. ` +
      (dl.seqStart !== null
        ? `Send the message again in ${dl.chatJid ?? 'its chat'}, or discard it: clawpod deadletters discard ${dl.id}`
        : `For a scheduled task use clawpod tasks run-now <task>, then discard it: clawpod deadletters discard ${dl.id}`),
  );
}

/** Composition root: builds every part from config, starts them in order, stops them in reverse. */
export class Daemon {
  readonly store: Store;
  readonly bus = new EventBus();
  readonly groups: GroupService;
  readonly runners = new RunnerRegistry();
  readonly sandbox: SandboxRunners;
  /** Credential/egress proxy (one socket per run) and the OAuth refresher. */
  readonly egress: Egress;
  readonly ipc: IpcHost;
  readonly queue: GroupQueue;
  readonly executor: RunExecutor;
  readonly router: Router;
  readonly outbox: OutboxWorker;
  /** The owner's retry/discard of dead letters (API and CLI). */
  readonly deadLetters: DeadLetterService;
  /** Scheduled tasks: timer loop, run path, and the TaskService behind API and CLI. */
  readonly scheduling: Scheduling;
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
    this.groups = new GroupService(this.store, config.paths);
    this.egress = createEgress({
      config,
      log: this.log.child({ part: 'egress' }),
      notifyOwner: (key, text) => this.outbox.notifyOwner(key, text),
    });
    this.sandbox = new SandboxRunners({
      egress: this.egress,
      config,
      log: this.log.child({ part: 'sandbox' }),
      harnesses: ['command', 'claude', 'codex'],
      harnessProblem: (harness, group) =>
        harness === 'claude'
          ? claudeCredentialProblem(config.env)
          : harness === 'codex' && group.provider?.envKey !== null
            ? codexCredentialProblem(config.env)
            : undefined,
      beforeRun: (folder) => this.ipc.ensureGroup(folder),
    });
    for (const r of [...this.sandbox.runners(), ...(opts.runners ?? [])]) this.runners.register(r);
    this.outbox = new OutboxWorker({
      store: this.store,
      channels: this.channels,
      bus: this.bus,
      log: this.log.child({ part: 'outbox' }),
      retry: config.file.retry,
    });
    this.deadLetters = new DeadLetterService({
      store: this.store,
      retryRun: (dl) => retryRunDeadLetter(dl),
      kickOutbox: () => this.outbox.kick(),
      log: this.log.child({ part: 'deadletters' }),
    });
    this.executor = new RunExecutor({
      config,
      store: this.store,
      runners: this.runners,
      outbox: this.outbox,
      channels: this.channels,
      bus: this.bus,
      log: this.log.child({ part: 'runs' }),
      taskWork: (item, attempt) => this.scheduling.runner.work(item, attempt),
      taskDeadLetter: (item, err, attempts) =>
        this.scheduling.runner.deadLetter(item, err, attempts),
    });
    this.queue = new GroupQueue({
      maxConcurrent: config.file.limits.maxConcurrentRuns,
      retry: config.file.retry,
      handlers: {
        run: (item, attempt) => this.executor.run(item, attempt),
        deadLetter: (i, e, n) => this.executor.deadLetter(i, e, n),
        onBlocked: (lane) => this.executor.releaseIdle(lane),
      },
      log: this.log.child({ part: 'queue' }),
    });
    this.executor.attach(this.queue);
    this.scheduling = createScheduling({
      config,
      store: this.store,
      queue: this.queue,
      executor: this.executor,
      outbox: this.outbox,
      bus: this.bus,
      log: this.log.child({ part: 'scheduler' }),
      clock: opts.schedulerClock,
      preCheck: (task, group) => this.sandbox.runPreCheck(task.preCheck!, group),
    });
    const taskOps = taskIpc(this.scheduling.tasks, config.timezone);
    this.ipc = new IpcHost({
      ipcRoot: config.paths.ipc,
      store: this.store,
      log: this.log.child({ part: 'ipc' }),
      tasks: taskOps,
      handler: new RequestHandler({
        groupsDir: config.paths.groups,
        filesDir: join(config.paths.home, 'outbox-files'),
        store: this.store,
        groups: this.groups,
        outbox: this.outbox,
        tasks: taskOps,
        log: this.log.child({ part: 'ipc' }),
      }),
    });
    this.router = new Router({
      store: this.store,
      bus: this.bus,
      log: this.log.child({ part: 'router' }),
      assistantName: config.file.assistant.name,
      groupsDir: config.paths.groups,
      attachmentMaxBytes: config.file.attachments.maxBytes,
      onTriggered: (folder) => void this.executor.submitMessages(folder),
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
      harnesses: this.runners.names(),
      daemon:
        this.state.name === 'running'
          ? { pid: process.pid, startedAt: this.state.startedAt }
          : undefined,
      queue: this.queue,
      channels: this.channelList,
    });
  }

  async start(): Promise<void> {
    if (this.state.name !== 'created')
      throw new Error(`cannot start a daemon that is ${this.state.name}`);
    const { config } = this.opts;
    this.unwatchStorage = watchStorage({
      health: this.store.health,
      outbox: this.outbox,
      log: this.log.child({ part: 'storage' }),
    });
    const token = ensureApiToken(config.paths.apiToken);
    this.groups.ensureMain();
    await this.sandbox.init();
    for (const g of this.store.groups.list()) void this.sandbox.prewarm(g);
    const interrupted = this.store.runs.interruptStale(Date.now());
    if (interrupted)
      this.log.warn({ interrupted }, 'runs interrupted by the last stop will be re-run');

    for (const factory of channelFactories()) {
      const made = await factory.create({ config, log: this.log.child({ channel: factory.name }) });
      if ('skip' in made) {
        this.log.info({ channel: factory.name, reason: made.skip }, 'channel skipped');
        continue;
      }
      await made.connect(this.router);
      this.channelList.push(made);
      this.log.info({ channel: made.name }, 'channel connected');
    }
    this.outbox.start();
    this.egress.start();
    this.ipc.start();
    this.executor.recoverPending();

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
    const app = createApp({
      token,
      timezone: config.timezone,
      version,
      store: this.store,
      bus: this.bus,
      groups: this.groups,
      tasks: this.scheduling.tasks,
      metrics: createMetrics({
        bus: this.bus,
        store: this.store,
        queue: this.queue,
        channels: () => this.channelList,
        extra: this.egress.proxy.metrics(),
      }),
      status: () => this.status(),
      deadLetters: this.deadLetters,
      log: this.log.child({ part: 'http' }),
      receive: (msg) => this.router.receive(msg),
      accepting: () => this.state.name === 'running',
      hooks: createHooks({
        config,
        db: this.store.db,
        log: this.log.child({ part: 'webhooks' }),
        accepting: () => this.state.name === 'running',
        receive: (msg) => this.router.receive(msg),
        runTask: (id) => this.scheduling.tasks.runNow(OWNER, id),
        ensureBound: (group, chat) => {
          if (!this.store.groups.groupForChat(chat)) this.groups.bind(group, chat);
        },
      }),
    });
    const { server, boundPort } = await new Promise<{ server: ServerType; boundPort: number }>(
      (resolve, reject) => {
        const s = serve({ fetch: app.fetch, hostname: host, port }, (info) =>
          resolve({ server: s, boundPort: info.port }),
        );
        s.once('error', reject);
      },
    );
    this.scheduling.scheduler.start();
    this.state = { name: 'running', startedAt: Date.now(), server, port: boundPort };
    const shownHost = isIP(host) === 6 ? `[${host}]` : host;
    this.log.info(
      { url: `http://${shownHost}:${boundPort}/`, version, harnesses: this.runners.names() },
      'clawpod is running',
    );
  }

  /** Stops intake, lets active runs finish up to the shutdown timeout, then stops everything. */
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
    this.executor.closeAll();
    const still = await this.queue.shutdown(this.opts.config.file.shutdownTimeoutMs);
    if (still.length) {
      this.log.warn(
        { lanes: still },
        'runs still active at shutdown timeout; ending them (their messages stay pending)',
      );
      this.executor.killAll('daemon shutdown');
      await this.queue.shutdown(2000);
    }
    this.store.runs.interruptStale(Date.now());
    this.scheduling.scheduler.close();
    await this.sandbox.stop();
    await this.egress.stop();
    this.outbox.stop();
    this.ipc.stop();
    for (const c of this.channelList)
      await c
        .disconnect()
        .catch((err: unknown) => this.log.warn({ err, channel: c.name }, 'disconnect failed'));
    (server as Server).closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.unwatchStorage?.();
    this.store.close();
    this.state = { name: 'stopped' };
    this.log.info('clawpod stopped');
  }
}
