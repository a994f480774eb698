// Bundles what runs inside a sandbox (`npm run build`, after tsc): the runner and the clawpod MCP
// server, each as one file in dist/agent-bundle/, the only part of the build a sandbox sees.
// The packages a harness declares (its spec's `packages`) stay outside the bundle: the host
// mounts them read-only for that harness's runs (docs/sandbox.md).
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/agent-bundle');
// The compiled registry (tsc ran first): one source of truth for the harness packages.
const { builtinHarnesses } = await import(join(root, 'dist/agent/harnesses/index.js'));
const external = [
  ...new Set(builtinHarnesses.flatMap((h) => h.spec.packages(process.platform, process.arch))),
];

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { runner: 'src/agent/main.ts', mcp: 'src/agent/mcp/main.ts' },
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  external,
  // CommonJS, not ESM: node starts a .cjs file without its ESM loader (~10 ms of every cold
  // start) and loads a module's node built-ins only when that module is first used. The
  // harness SDKs, ESM packages, are still loaded with import() (kept as is).
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  define: { 'import.meta.url': '__clawpodModuleUrl' },
  // ("use strict" first: a banner before esbuild's own directive would turn it off.)
  banner: {
    js: "'use strict'; var __clawpodModuleUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  // A smaller file parses faster: the runner's start is on every cold run's path.
  minify: true,
  logLevel: 'warning',
});
