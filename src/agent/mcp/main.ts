import { runMcpServer } from './server.js';

// Started by a harness as its MCP server: `node /opt/clawpod/agent/mcp.cjs` (this file, bundled).
runMcpServer(
  process.env.CLAWPOD_IPC_DIR ?? '/workspace/ipc',
  process.env.CLAWPOD_SESSION_TOKEN || undefined,
).catch((err: unknown) => {
  process.stderr.write(`clawpod MCP server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
