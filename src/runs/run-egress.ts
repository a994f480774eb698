/**
 * A run's way out, decided per run: a harness that talks to a model (anything but `command`)
 * or a group with egress hosts gets its own proxy socket mounted at SANDBOX_PROXY_SOCKET;
 * otherwise the sandbox has no network at all.
 */
import type { Egress } from '../egress/egress.js';
import type { Group } from '../store/group-schema.js';
import type { ProxyInfo } from '../protocol/runner-protocol.js';
import type { SandboxNetwork } from '../sandbox/runtime.js';

/** Where the proxy's socket appears inside every sandbox runtime that mounts it. */
export const SANDBOX_PROXY_SOCKET = '/run/clawpod/proxy.sock';

/** The network spec and the start request's `proxy` for one run; `close()` ends the proxy. */
export interface RunEgress {
  network: SandboxNetwork;
  proxy: ProxyInfo | null;
  close(): Promise<void>;
}

const NONE: RunEgress = { network: { mode: 'none' }, proxy: null, close: async () => undefined };

/** True when the run needs the proxy: model access, or hosts on the group's allowlist. */
export function needsProxy(egress: Egress, harness: string, group: Group): boolean {
  return harness !== 'command' || egress.proxy.hasEgress(group.folder);
}

/**
 * Opens the run's proxy when it needs one. `runtime` none has no mount namespace: the runner
 * then uses the host path of the socket.
 */
export async function openRunEgress(
  egress: Egress | undefined,
  run: { group: Group; session: string; harness: string; runtime: string },
): Promise<RunEgress> {
  if (!egress || !needsProxy(egress, run.harness, run.group)) return NONE;
  const handle = await egress.proxy.open({ group: run.group.folder, session: run.session });
  return {
    network: {
      mode: 'socket',
      hostSocketPath: handle.socketPath,
      sandboxSocketPath: SANDBOX_PROXY_SOCKET,
    },
    proxy: {
      socket: run.runtime === 'none' ? handle.socketPath : SANDBOX_PROXY_SOCKET,
      placeholder: handle.placeholder,
      anthropicAuth: egress.credentials.anthropicKind() ?? 'api-key',
    },
    close: () => handle.close(),
  };
}
