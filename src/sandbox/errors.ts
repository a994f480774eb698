/**
 * Typed errors of the sandbox layer. Every error carries a stable `code` (for the HTTP API, logs
 * and tests) and a `hint`: one sentence telling the user what to do about it. The message itself
 * already ends with the hint, so logging `err.message` is enough for a human.
 */

/** Stable error codes of the sandbox layer. */
export type SandboxErrorCode =
  | 'SANDBOX_SPEC_INVALID'
  | 'SANDBOX_RUNTIME_UNKNOWN'
  | 'SANDBOX_RUNTIME_UNAVAILABLE'
  | 'SANDBOX_RUNTIME_DUPLICATE'
  | 'SANDBOX_MOUNT_REFUSED'
  | 'SANDBOX_MOUNT_UNREACHABLE'
  | 'SANDBOX_ALLOWLIST_INVALID'
  | 'SANDBOX_UNSAFE_PATH'
  | 'SANDBOX_ID_RANGE'
  | 'SANDBOX_IMAGE_BUILD_FAILED';

/** Base class: `code` is stable, `hint` says what the user should do. */
export class SandboxError extends Error {
  readonly code: SandboxErrorCode;
  readonly hint: string;

  constructor(code: SandboxErrorCode, message: string, hint: string, options?: ErrorOptions) {
    super(hint ? `${message}. ${hint}` : message, options);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
  }
}

/** A SandboxSpec (or a part of it, such as an env name or image) failed validation. */
export class SandboxSpecError extends SandboxError {
  constructor(message: string, hint = 'Fix the sandbox spec built for this run') {
    super('SANDBOX_SPEC_INVALID', message, hint);
  }
}

/** A runtime name was asked for that no runtime file registered. */
export class UnknownRuntimeError extends SandboxError {
  constructor(name: string, known: readonly string[]) {
    super(
      'SANDBOX_RUNTIME_UNKNOWN',
      `Unknown sandbox runtime "${name}"`,
      `Set runtime to one of: auto, ${known.join(', ')}`,
    );
  }
}

/** Two runtime files registered the same name. */
export class DuplicateRuntimeError extends SandboxError {
  constructor(name: string) {
    super(
      'SANDBOX_RUNTIME_DUPLICATE',
      `Sandbox runtime "${name}" is listed twice`,
      'List each runtime once (builtinRuntimes in src/sandbox/index.ts, or DaemonOptions.runtimes)',
    );
  }
}

/** The chosen runtime (or, for auto, every candidate) cannot run sandboxes on this host. */
export class RuntimeUnavailableError extends SandboxError {
  constructor(message: string, hint: string) {
    super('SANDBOX_RUNTIME_UNAVAILABLE', message, hint);
  }
}

/** The mount policy refused a mount (blocked name, outside the allowlist, escape attempt…). */
export class MountRefusedError extends SandboxError {
  constructor(message: string, hint: string) {
    super('SANDBOX_MOUNT_REFUSED', message, hint);
  }
}

/** A host path to be mounted cannot be reached (or written) by the sandbox uid. */
export class MountUnreachableError extends SandboxError {
  constructor(message: string, hint: string) {
    super('SANDBOX_MOUNT_UNREACHABLE', message, hint);
  }
}

/** The mount allowlist file is not valid JSON or does not match its schema. */
export class AllowlistFileError extends SandboxError {
  readonly file: string;
  readonly key: string | null;

  constructor(file: string, key: string | null, detail: string) {
    const where = key ? `${file}: key "${key}"` : file;
    super(
      'SANDBOX_ALLOWLIST_INVALID',
      `Mount allowlist ${where}: ${detail}`,
      'Fix that file: {"allowedRoots":[{"path":"~/projects","allowReadWrite":false}],"blockedPatterns":[],"nonMainReadOnly":true}',
    );
    this.file = file;
    this.key = key;
  }
}

/** A host-side file operation inside a group/IPC dir met a symlink, `..`, or a non-regular file. */
export class UnsafePathError extends SandboxError {
  constructor(message: string, hint = 'Remove the offending entry from the group or IPC folder') {
    super('SANDBOX_UNSAFE_PATH', message, hint);
  }
}

/** Building the local container image failed. */
export class ImageBuildError extends SandboxError {
  constructor(message: string, hint: string) {
    super('SANDBOX_IMAGE_BUILD_FAILED', message, hint);
  }
}
