/**
 * Runtime registry. Each runtime file exports its factory, `builtinRuntimes` (index.ts) lists
 * them explicitly; the daemon instantiates a list with its context and picks one with
 * selectRuntime(). The core never names a specific runtime except for the documented `auto`
 * preference order.
 */
import type { Logger } from 'pino';
import { DuplicateRuntimeError, RuntimeUnavailableError, UnknownRuntimeError } from './errors.js';
import type { Runtime } from './runtime.js';

/**
 * What the daemon hands every runtime factory. Nothing here is read from the environment by
 * the sandbox layer itself.
 */
export interface RuntimeContext {
  /** Receives runtime warnings (the `none` runtime warns on every spawn). */
  logger: Logger;
  /** Default image for container runtimes when a spec has none (default clawpod-agent:local). */
  image?: string;
  /** PATH used to find runtime binaries (bwrap, prlimit, podman…); default: the daemon's PATH. */
  searchPath?: string;
  /** Installation id for container labels (scopes orphan cleanup to this data dir). */
  owner?: string;
  /**
   * Extra host dirs made visible read-only at the same path by runtimes that share the host's
   * file system (bubblewrap). Default: the node install dir when it is outside /usr.
   */
  systemPaths?: readonly string[];
}

/** A runtime kind: a name and a way to build it from the daemon's context. */
export interface RuntimeFactory {
  readonly name: string;
  /** One line for `clawpod doctor` and the docs. */
  readonly description: string;
  create(ctx: RuntimeContext): Runtime;
}

/** The order `auto` tries runtimes in. `none` is never chosen automatically. */
export const AUTO_ORDER: readonly string[] = ['bubblewrap', 'podman', 'docker', 'apple'];

/**
 * Instantiates runtimes into a name → Runtime map, in list order. Two factories with one name
 * are a mistake in the list: DuplicateRuntimeError.
 */
export function createRuntimes(
  ctx: RuntimeContext,
  from: readonly RuntimeFactory[],
): Map<string, Runtime> {
  const out = new Map<string, Runtime>();
  for (const f of from) {
    if (out.has(f.name)) throw new DuplicateRuntimeError(f.name);
    out.set(f.name, f.create(ctx));
  }
  return out;
}

/** The choice made by selectRuntime, with a sentence for logs and `clawpod status`. */
export interface RuntimeSelection {
  runtime: Runtime;
  why: string;
}

/**
 * Pick the runtime for `pref`. A named runtime must exist and be available (else a typed error
 * with the probe's reason). `auto` takes the first available of AUTO_ORDER and never `none`;
 * when none is available the error lists every candidate's reason.
 */
export async function selectRuntime(
  pref: string,
  runtimes: ReadonlyMap<string, Runtime>,
): Promise<RuntimeSelection> {
  if (pref !== 'auto') {
    const runtime = runtimes.get(pref);
    if (!runtime) throw new UnknownRuntimeError(pref, [...runtimes.keys()]);
    const a = await runtime.available();
    if (!a.ok) {
      throw new RuntimeUnavailableError(
        `Sandbox runtime "${pref}" is not available: ${a.reason}`,
        'Fix the cause above, or set runtime: auto in config.yaml',
      );
    }
    const why =
      pref === 'none'
        ? 'runtime "none" chosen explicitly: agents run WITHOUT any sandbox (development only)'
        : `runtime "${pref}" chosen explicitly (${a.reason})`;
    return { runtime, why };
  }
  const tried: string[] = [];
  for (const name of AUTO_ORDER) {
    const runtime = runtimes.get(name);
    if (!runtime) continue;
    const a = await runtime.available();
    if (a.ok) {
      const skipped = tried.length ? `; skipped ${tried.join('; ')}` : '';
      return { runtime, why: `auto: ${name} is available (${a.reason})${skipped}` };
    }
    tried.push(`${name}: ${a.reason}`);
  }
  throw new RuntimeUnavailableError(
    `No sandbox runtime is available (${tried.join('; ') || 'none registered'})`,
    'Install bubblewrap (apt-get install -y bubblewrap) or podman, or set runtime: none for development only',
  );
}
