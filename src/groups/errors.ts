/** A request about groups that cannot be done as asked; `code` maps to an HTTP status. */
export class GroupError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'invalid' | 'forbidden',
    message: string,
  ) {
    super(message);
    this.name = 'GroupError';
  }
}
