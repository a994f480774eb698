import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** File name of the MCP server bundle, written beside the runner bundle by `npm run build`. */
export const MCP_BUNDLE = 'mcp.cjs';

/**
 * Where the clawpod MCP server is, for a harness to start it as `node <path>`: beside the running
 * runner bundle (in the sandbox `/opt/clawpod/agent/mcp.cjs`); when this code runs unbundled
 * (tests, benchmarks: from src/ or dist/), the built bundle in the package's `dist/agent-bundle/`.
 */
export function mcpServerPath(from: string = import.meta.url): string {
  const sibling = fileURLToPath(new URL(`./${MCP_BUNDLE}`, from));
  if (existsSync(sibling)) return sibling;
  // src/agent/mcp/ and dist/agent/mcp/ are both three levels below the package root.
  return fileURLToPath(new URL(`../../../dist/agent-bundle/${MCP_BUNDLE}`, from));
}
