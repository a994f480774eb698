import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { IpcClient } from './ipc-client.js';
import { TOOLS } from './tools.js';

/**
 * The clawpod MCP server (stdio), run inside the sandbox next to the harness. Every tool is a
 * request to the host over IPC; the tool returns the host's real answer, never a blind ok.
 */
export function createMcpServer(client: IpcClient): McpServer {
  const server = new McpServer({ name: 'clawpod', version: '1' });
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      { description: tool.description, inputSchema: tool.shape },
      async (args: Record<string, unknown>) => {
        try {
          const res = await client.request(tool.name, args);
          if (res.ok)
            return {
              content: [{ type: 'text' as const, text: JSON.stringify(res.result, null, 2) }],
            };
          return {
            isError: true,
            content: [{ type: 'text' as const, text: `${res.error.code}: ${res.error.message}` }],
          };
        } catch (err) {
          return {
            isError: true,
            content: [{ type: 'text' as const, text: (err as Error).message }],
          };
        }
      },
    );
  }
  return server;
}

/** Entry (`mcp/main.ts`, bundled as mcp.cjs): speaks MCP on stdio. */
export async function runMcpServer(ipcDir: string, sessionToken?: string): Promise<void> {
  await createMcpServer(new IpcClient(ipcDir, sessionToken)).connect(new StdioServerTransport());
}
