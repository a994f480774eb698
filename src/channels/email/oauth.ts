import { z } from 'zod';

const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().optional(),
});

/** OAuth2 client settings with secrets resolved. */
export interface OAuth2Settings {
  user: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  tokenUrl: string;
}

/**
 * Exchanges the refresh token for an access token (RFC 6749 §6) for IMAP XOAUTH2. Called at every
 * IMAP (re)connect; nodemailer refreshes its own for SMTP. Errors never quote the secrets.
 */
export async function fetchAccessToken(s: OAuth2Settings): Promise<string> {
  const res = await fetch(s.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: s.clientId,
      client_secret: s.clientSecret,
      refresh_token: s.refreshToken,
    }),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`OAuth2 token refresh failed: HTTP ${res.status}`);
  return tokenResponse.parse(await res.json()).access_token;
}
