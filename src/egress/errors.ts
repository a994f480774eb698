/** An egress setting the owner must fix (bad allowlist entry, bad upstream URL, bad expiry). */
export class EgressConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EgressConfigError';
  }
}

/** A refresh of the OAuth token failed; `message` says why and what to do. */
export class OAuthRefreshError extends Error {
  constructor(
    message: string,
    /** False when retrying cannot help (the token endpoint refused the refresh token). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'OAuthRefreshError';
  }
}
