import type { Readable, Writable } from 'node:stream';
import * as clack from '@clack/prompts';

/** The owner left the wizard (Ctrl-C or Escape); what was saved so far stays. */
export class SetupCancelled extends Error {
  constructor() {
    super('setup cancelled; what was saved so far stays (run `clawpod setup` again to go on)');
  }
}

/** Where the wizard reads keys and writes its screen (a terminal, or streams in tests). */
export interface PromptIo {
  input?: Readable;
  output?: Writable;
}

export interface Choice<T> {
  value: T;
  label: string;
  hint?: string;
}

/**
 * The wizard's questions and messages, drawn by @clack/prompts on `io` (the terminal by
 * default). Every question throws {@link SetupCancelled} when the owner cancels; `signal`
 * ends a question early (it then resolves to undefined).
 */
export class Prompter {
  constructor(private readonly io: PromptIo = {}) {}

  private done<T>(v: T | symbol, signal?: AbortSignal): T | undefined {
    if (clack.isCancel(v)) {
      if (signal?.aborted) return undefined;
      throw new SetupCancelled();
    }
    return v as T;
  }

  async text(o: {
    message: string;
    initial?: string;
    placeholder?: string;
    validate?: (v: string) => string | undefined;
  }): Promise<string> {
    const v = await clack.text({
      message: o.message,
      initialValue: o.initial,
      placeholder: o.placeholder,
      validate: o.validate ? (s) => o.validate!((s ?? '').trim()) : undefined,
      ...this.io,
    });
    return (this.done<string>(v) ?? '').trim();
  }

  /** Hidden input (tokens, keys). */
  async secret(o: { message: string; validate?: (v: string) => string | undefined }) {
    const v = await clack.password({
      message: o.message,
      validate: o.validate ? (s) => o.validate!((s ?? '').trim()) : undefined,
      ...this.io,
    });
    return (this.done<string>(v) ?? '').trim();
  }

  async confirm(message: string, initial = true): Promise<boolean> {
    return (
      this.done<boolean>(await clack.confirm({ message, initialValue: initial, ...this.io })) ??
      false
    );
  }

  async select<T>(message: string, options: Choice<T>[], initial?: T): Promise<T>;
  async select<T>(
    message: string,
    options: Choice<T>[],
    initial: T | undefined,
    signal: AbortSignal,
  ): Promise<T | undefined>;
  async select<T>(
    message: string,
    options: Choice<T>[],
    initial?: T,
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    const v = await clack.select<T>({
      message,
      // clack's Option type is conditional on T; the shape is the same for every T.
      options: options as Parameters<typeof clack.select<T>>[0]['options'],
      initialValue: initial,
      signal,
      ...this.io,
    });
    return this.done<T>(v as T | symbol, signal);
  }

  intro(title: string): void {
    clack.intro(title, this.io);
  }
  outro(message: string): void {
    clack.outro(message, this.io);
  }
  note(message: string, title?: string): void {
    clack.note(message, title, this.io);
  }
  info(message: string): void {
    clack.log.info(message, this.io);
  }
  step(message: string): void {
    clack.log.step(message, this.io);
  }
  ok(message: string): void {
    clack.log.success(message, this.io);
  }
  warn(message: string): void {
    clack.log.warn(message, this.io);
  }
  error(message: string): void {
    clack.log.error(message, this.io);
  }
}
