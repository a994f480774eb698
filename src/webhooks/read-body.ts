/** The body read up to a limit: `too_large` as soon as more than `max` bytes arrive. */
export type BodyRead = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' };

/**
 * Reads a request body, stopping (and cancelling the stream) at `max` bytes, so a lying or
 * missing Content-Length cannot make the daemon buffer more than the hook allows.
 */
export async function readLimited(req: Request, max: number): Promise<BodyRead> {
  if (!req.body) return { ok: true, body: Buffer.alloc(0) };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return { ok: false, reason: 'too_large' };
    }
    chunks.push(value);
  }
  return { ok: true, body: Buffer.concat(chunks) };
}
