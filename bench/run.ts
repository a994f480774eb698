/**
 * `npm run bench`: every benchmark suite, each printed as a table plus a `BENCH_JSON` line.
 * `npm run bench -- host scheduler` runs only the named suites. Runs with NODE_EXTRA_CA_CERTS
 * unset (see package.json), as users run clawpod.
 */
import type { Figure } from './report.js';
import { machineMeta, printReport } from './report.js';

const suites: Record<string, () => Promise<Figure[]>> = {
  host: async () => (await import('./host.js')).hostBench(),
  scheduler: async () => (await import('./scheduler.js')).schedulerBench(),
  sandbox: async () => (await import('./sandbox.js')).sandboxBench(),
  load: async () => (await import('./load.js')).loadBench(),
  crash: async () => (await import('./crash.js')).crashBench(),
  egress: async () => (await import('./egress.js')).egressBench(),
  ipc: async () => (await import('./ipc.js')).ipcBench(),
  guard: async () => (await import('./guard.js')).guardBench(),
  claude: async () => (await import('./claude.js')).claudeBench(),
  codex: async () => (await import('./codex.js')).codexBench(),
  ui: async () => (await import('./ui.js')).uiBench(),
  memory: async () => (await import('./memory.js')).memoryBench(),
};

const asked = process.argv.slice(2);
const meta = machineMeta();
for (const [name, run] of Object.entries(suites)) {
  if (asked.length && !asked.includes(name)) continue;
  printReport(`clawpod ${name}`, await run(), meta);
}
