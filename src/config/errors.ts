/** A config problem a user can act on: which file, which key, what was expected. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string,
    readonly expected: string,
  ) {
    super(`${file}: ${key || '(root)'}: ${expected}`);
    this.name = 'ConfigError';
  }
}
