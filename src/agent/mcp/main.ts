import { runMcpServer } from './server.js';

// Started by a harness as its MCP server: `node /opt/clawpod/agent/mcp.mjs` (this file, bundled).
await runMcpServer(
  process.env.CLAWPOD_IPC_DIR ?? '/workspace/ipc',
  process.env.CLAWPOD_SESSION_TOKEN || undefined,
);
