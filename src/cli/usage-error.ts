/** A command used wrongly (exit code 2); the message says the right form. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
