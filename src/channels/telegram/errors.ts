import { GrammyError, HttpError } from 'grammy';
import { DeliveryError } from '../channel.js';

/** Removes a bot token (and anything shaped like one) from a message meant for logs or health. */
export function redact(text: string, token: string): string {
  let out = token ? text.split(token).join('<token>') : text;
  out = out.replace(/\d{5,}:[A-Za-z0-9_-]{20,}/g, '<token>');
  return out;
}

/**
 * A one-line description of an API or network failure, safe to log and to show in `status`:
 * grammY's own messages name the method, never the URL; the underlying fetch error (which
 * carries the URL, token included) is reduced to its code.
 */
export function describeError(err: unknown, token: string): string {
  if (err instanceof GrammyError)
    return redact(`${err.method}: ${err.error_code} ${err.description}`, token);
  if (err instanceof HttpError) {
    const cause = err.error as { code?: unknown; type?: unknown } | undefined;
    const code =
      typeof cause?.code === 'string'
        ? cause.code
        : typeof cause?.type === 'string'
          ? cause.type
          : '';
    return redact(code ? `${err.message} (${code})` : err.message, token);
  }
  return redact(err instanceof Error ? err.message : String(err), token);
}

/** Telegram refused the HTML (a 400 about entities/tags): resend as plain text. */
export function isFormattingError(err: unknown): boolean {
  return (
    err instanceof GrammyError &&
    err.error_code === 400 &&
    /can't parse (entities|message text)|message text is empty/i.test(err.description)
  );
}

/** The flood-control wait Telegram asks for, in ms (429 with `parameters.retry_after`). */
export function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof GrammyError) || err.error_code !== 429) return undefined;
  const s = err.parameters.retry_after;
  return typeof s === 'number' && s >= 0 ? s * 1000 : 1000;
}

/**
 * Maps a failed send to the outbox's retry policy: 429 → wait `retry_after`; a group upgraded
 * to a supergroup, a chat not found, a bot blocked or kicked (400/403) → permanent (retrying
 * cannot help; the owner gets a dead-letter notice); network errors and 5xx → retry with backoff.
 */
export function toDeliveryError(err: unknown, token: string): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const message = describeError(err, token);
  const wait = retryAfterMs(err);
  if (wait !== undefined) return new DeliveryError(message, { retryAfterMs: wait });
  if (err instanceof GrammyError) {
    const migrated = err.parameters.migrate_to_chat_id;
    if (migrated !== undefined)
      return new DeliveryError(
        `${message}: the group is now tg:${migrated}; bind that chat instead`,
        {
          permanent: true,
        },
      );
    if (err.error_code === 400 || err.error_code === 403)
      return new DeliveryError(message, { permanent: true });
  }
  return new DeliveryError(message);
}
