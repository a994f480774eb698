import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** How to start Codex: the native binary, or (fallback) the package's node launcher. */
export interface CodexCommand {
  command: string;
  /** Put before Codex's own arguments (the launcher script for the node fallback). */
  prefix: string[];
}

/** `@openai/codex` ships its native binary in a per-platform optional package. */
const PLATFORMS: Record<string, { pkg: string; triple: string }> = {
  'linux-x64': { pkg: '@openai/codex-linux-x64', triple: 'x86_64-unknown-linux-musl' },
  'linux-arm64': { pkg: '@openai/codex-linux-arm64', triple: 'aarch64-unknown-linux-musl' },
  'darwin-x64': { pkg: '@openai/codex-darwin-x64', triple: 'x86_64-apple-darwin' },
  'darwin-arm64': { pkg: '@openai/codex-darwin-arm64', triple: 'aarch64-apple-darwin' },
};

/** Codex is not installed where this module can resolve it. */
export class CodexNotInstalledError extends Error {
  constructor(detail: string) {
    super(`the Codex CLI is not installed (${detail}); run npm install in the clawpod folder`);
    this.name = 'CodexNotInstalledError';
  }
}

/**
 * Finds Codex from this module's location (in the sandbox: the runner bundle, so the packages the
 * host mounts at /opt/clawpod/node_modules):
 * the native binary directly (no node process in between, signals reach it), else
 * `node @openai/codex/bin/codex.js`. Throws CodexNotInstalledError when neither exists.
 */
export function resolveCodex(from: string = import.meta.url): CodexCommand {
  const require = createRequire(from);
  const platform = PLATFORMS[`${process.platform}-${process.arch}`];
  if (platform) {
    try {
      const root = dirname(require.resolve(`${platform.pkg}/package.json`));
      const binary = join(root, 'vendor', platform.triple, 'bin', 'codex');
      if (existsSync(binary)) return { command: binary, prefix: [] };
    } catch {
      // not installed for this platform: try the launcher
    }
  }
  try {
    const launcher = join(
      dirname(require.resolve('@openai/codex/package.json')),
      'bin',
      'codex.js',
    );
    if (existsSync(launcher)) return { command: process.execPath, prefix: [launcher] };
  } catch {
    // fall through
  }
  throw new CodexNotInstalledError(`no @openai/codex for ${process.platform}-${process.arch}`);
}
