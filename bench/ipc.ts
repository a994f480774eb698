/**
 * IPC flood benchmark, on a real Daemon at its defaults: 3,000 `list_tasks` requests dropped into
 * one group's requests/ at once (temp name, then rename, as the agent's MCP client writes them).
 * Reports the time until every one is answered, how many answers are correct (ok, its own id,
 * the group's tasks; none overwritten by a false error), files in errors/, and the growth of the
 * process's RSS while draining (peak minus before). Goals: drained < 10 s, 3,000/3,000 correct,
 * RSS growth < 50 MB, no error files.
 * Run alone: `node --import tsx bench/ipc.ts` (table + BENCH_JSON line).
 */
import { mkdtempSync, readFileSync, readdirSync, renameSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import { silentLogger } from '../src/logging/logger.js';
import { machineMeta, printReport, type Figure } from './report.js';

const TASKS = 5;

/**
 * Resolves when `dir` holds `n` answers: counted from inotify event names (no directory listing
 * per event, which would cost this process more than the host's work); a listing confirms it,
 * and a slow fallback listing covers events the kernel dropped.
 */
function answered(dir: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    const seen = new Set<string>();
    const full = () => readdirSync(dir).filter((f) => !f.startsWith('.')).length >= n;
    const finish = () => {
      if (!full()) return;
      w.close();
      clearInterval(fallback);
      resolve();
    };
    const w = watch(dir, (_e, name) => {
      if (!name || name.startsWith('.') || seen.has(name)) return;
      seen.add(name);
      if (seen.size >= n) finish();
    });
    const fallback = setInterval(finish, 1000);
  });
}

async function flood(n: number): Promise<Figure[]> {
  const home = mkdtempSync(join(tmpdir(), 'clawpod-bench-ipc-'));
  writeFileSync(join(home, 'config.yaml'), 'http: { port: 0 }\n');
  const d = new Daemon({ config: loadConfig({ CLAWPOD_HOME: home }), log: silentLogger() });
  await d.start();
  d.groups.add({ name: 'busy', chats: ['web:busy'] });
  for (let i = 0; i < TASKS; i++)
    d.scheduling.tasks.create(
      { group: 'busy', isMain: false },
      { schedule: '1h', prompt: `t${i}` },
    );
  d.ipc.ensureGroup('busy');
  const ipc = join(home, 'ipc', 'busy');
  await d.ipc.idle();

  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 20);
  const done = answered(join(ipc, 'responses'), n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const tmp = join(ipc, 'requests', `.q${i}.tmp`);
    writeFileSync(tmp, JSON.stringify({ id: `q${i}`, op: 'list_tasks', args: {} }));
    renameSync(tmp, join(ipc, 'requests', `q${i}.json`));
  }
  await done;
  const secs = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  await d.ipc.idle();

  let correct = 0;
  for (let i = 0; i < n; i++) {
    const a = JSON.parse(readFileSync(join(ipc, 'responses', `q${i}.json`), 'utf8')) as {
      id: string;
      ok: boolean;
      result?: unknown[];
    };
    if (a.id === `q${i}` && a.ok && a.result?.length === TASKS) correct++;
  }
  const errorFiles = readdirSync(join(ipc, 'errors')).length;
  await d.stop();
  const growthMb = Math.round(((rssPeak - rssBefore) / 1024 / 1024) * 10) / 10;
  return [
    {
      name: `IPC flood: ${n} list_tasks drained`,
      value: Math.round(secs * 1000) / 1000,
      unit: 's',
      goal: '< 10 s',
      met: secs < 10,
    },
    {
      name: 'IPC flood: correct answers',
      value: correct,
      unit: `of ${n}`,
      goal: `${n}`,
      met: correct === n,
    },
    {
      name: 'IPC flood: files in errors/',
      value: errorFiles,
      unit: '',
      goal: '0',
      met: !errorFiles,
    },
    {
      name: 'IPC flood: RSS growth while draining',
      value: growthMb,
      unit: 'MB',
      goal: '< 50 MB',
      met: growthMb < 50,
    },
  ];
}

export async function ipcBench(): Promise<Figure[]> {
  return flood(Number(process.env.BENCH_IPC_REQUESTS ?? 3000));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  printReport('clawpod ipc', await ipcBench(), machineMeta());
}
