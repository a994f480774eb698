import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Daemon } from '../../src/daemon.js';
import type { ResponseFile } from '../../src/protocol/ipc.js';

let n = 0;

/**
 * What the clawpod MCP server does for a tool call, from a scripted agent: writes the request
 * (temp name, then rename) with the session's token into the group's IPC dir, lets the host
 * handle it, and returns the host's response.
 */
export async function agentRequest(
  d: Daemon,
  home: string,
  group: string,
  sessionToken: string,
  op: string,
  args: Record<string, unknown>,
): Promise<ResponseFile> {
  const id = `agent-${++n}`;
  const dir = join(home, 'ipc', group);
  const tmp = join(dir, 'requests', `.${id}.tmp`);
  writeFileSync(tmp, JSON.stringify({ id, op, args, session: sessionToken }));
  renameSync(tmp, join(dir, 'requests', `${id}.json`));
  await d.ipc.scan(group, 'requests');
  return JSON.parse(readFileSync(join(dir, 'responses', `${id}.json`), 'utf8')) as ResponseFile;
}
