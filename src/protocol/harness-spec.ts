import type { ZodMiniType } from 'zod/mini';

/** The daemon's environment (process env over `$CLAWPOD_HOME/.env`), read for presence only. */
export type HostEnv = Readonly<Record<string, string | undefined>>;

/**
 * What the host needs to know about a harness, declared by the harness in
 * `agent/harnesses/<name>/spec.ts` and listed once in `agent/harnesses/index.ts`. A spec is
 * plain data and pure functions (no I/O, no SDK import), so the host may load it.
 *
 * Contract: `optionsSchema` is strict (an unknown option is an error naming it) and every option
 * is optional (a group without options runs at the harness's defaults); the same schema checks
 * a group's `harnessOptions.<name>` on the host and the start request's `harnessOptions` in the
 * sandbox. `credentialProblem` names exactly what to set, or is undefined when the harness can
 * run; it never reads a value beyond its presence. `packages` are npm package names the harness
 * loads inside the sandbox on this platform: the host mounts those installed, read-only, at
 * `/opt/clawpod/node_modules/<name>`, and nothing else of node_modules.
 */
export interface HarnessSpec<Options extends object = Record<string, unknown>> {
  readonly name: string;
  /** zod/mini, like the protocol: the runner checks the options on every start. */
  readonly optionsSchema: ZodMiniType<Options>;
  credentialProblem(env: HostEnv, options: Options): string | undefined;
  packages(platform: string, arch: string): readonly string[];
}
