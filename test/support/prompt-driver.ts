import { PassThrough, Writable } from 'node:stream';

/** Keys as a terminal sends them. */
export const KEY = { enter: '\r', down: '\x1b[B', up: '\x1b[A', backspace: '\x7f' } as const;

/**
 * Drives @clack/prompts through its own input/output streams (the library's test input): the
 * wizard draws into `output`, the test waits for a text to appear there (event-driven: checked
 * on every write) and types into `input`. Each wait starts where the last one matched, so an
 * old screen never answers a new question.
 */
export class PromptDriver {
  readonly input = new PassThrough();
  readonly output: Writable & { columns: number; rows: number };
  private screen = '';
  private cursor = 0;
  private waiters: Array<{ text: string; resolve: () => void }> = [];

  constructor() {
    const out = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.screen += chunk.toString('utf8');
        this.check();
        cb();
      },
    });
    this.output = Object.assign(out, { columns: 120, rows: 40 });
  }

  /** Everything drawn so far, without terminal escapes. */
  get text(): string {
    // eslint-disable-next-line no-control-regex
    return this.screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      const at = this.text.indexOf(w.text, this.cursor);
      if (at < 0) continue;
      this.cursor = at + w.text.length;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  /**
   * Resolves once `text` is drawn (after the previous match). Rejects after `failAfterMs` with
   * the end of the screen, so a wizard that went elsewhere fails with what it showed.
   */
  waitFor(text: string, failAfterMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.text !== text);
        reject(
          new Error(`"${text}" was not shown; the screen ends with:\n${this.text.slice(-1500)}`),
        );
      }, failAfterMs);
      this.waiters.push({
        text,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      this.check();
    });
  }

  type(keys: string): void {
    this.input.write(keys);
  }

  /** Waits for a question, then types the answer and Enter. */
  async answer(question: string, keys: string): Promise<void> {
    await this.waitFor(question);
    this.type(keys + KEY.enter);
  }

  /** Waits for a menu, moves down `steps` options and chooses. */
  async choose(question: string, steps: number): Promise<void> {
    await this.waitFor(question);
    this.type(KEY.down.repeat(steps) + KEY.enter);
  }
}
