/** A guard request that cannot be served, with a code the API maps to a status. */
export class GuardError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid' | 'decided' | 'forbidden',
    message: string,
  ) {
    super(message);
    this.name = 'GuardError';
  }
}

export const GUARD_ERROR_STATUS = {
  not_found: 404,
  invalid: 400,
  decided: 409,
  forbidden: 403,
} as const;
