/**
 * Masks the injected credential in what an upstream sends back. An upstream (or a gateway, or
 * a debugging echo server) may reflect request headers in an error body or a header; without
 * this the sandbox would read the real key in the answer to its own request.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import type { WireCredential } from './credentials.js';

/** What stands in for the credential in a masked answer. */
export const SECRET_MASK = '[redacted by clawpod]';
const MASK_BYTES = Buffer.from(SECRET_MASK);

/** The secret part of a wire credential: the token of `Bearer <token>`, else the whole value. */
export function secretOf(credential: WireCredential): string {
  const bearer = /^Bearer\s+(.+)$/i.exec(credential.value);
  return (bearer ? bearer[1]! : credential.value).trim();
}

/** `text` with every occurrence of `secret` replaced by the mask. */
export function maskText(text: string, secret: string): string {
  return text.split(secret).join(SECRET_MASK);
}

/** Masks `secret` in every header value, in place; returns `headers`. */
export function maskHeaders(headers: OutgoingHttpHeaders, secret: string): OutgoingHttpHeaders {
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') headers[name] = maskText(value, secret);
    else if (Array.isArray(value)) headers[name] = value.map((v) => maskText(v, secret));
  }
  return headers;
}

/**
 * Length of the longest tail of `buf` (from `from` on) that is a proper prefix of `secret`:
 * those bytes may be the start of a secret split across two chunks.
 */
function partialTail(buf: Buffer, from: number, secret: Buffer): number {
  const start = Math.max(from, buf.length - (secret.length - 1));
  for (let i = start; i < buf.length; i++) {
    if (buf[i] === secret[0] && buf.subarray(i).equals(secret.subarray(0, buf.length - i))) {
      return buf.length - i;
    }
  }
  return 0;
}

/**
 * A byte stream with every occurrence of the secret replaced by the mask. Only a tail that
 * could begin the secret is held back until the next chunk, so a chunk that does not end in
 * such a prefix (an SSE event ends in a blank line) goes through at once, unbuffered.
 */
export class SecretMaskStream extends Transform {
  private readonly secret: Buffer;
  private pending = Buffer.alloc(0);

  constructor(secret: string) {
    super();
    if (!secret) throw new Error('SecretMaskStream needs a non-empty secret');
    this.secret = Buffer.from(secret);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let from = 0;
    for (let at = buf.indexOf(this.secret); at !== -1; at = buf.indexOf(this.secret, from)) {
      out.push(buf.subarray(from, at), MASK_BYTES);
      from = at + this.secret.length;
    }
    const hold = partialTail(buf, from, this.secret);
    out.push(buf.subarray(from, buf.length - hold));
    this.pending = Buffer.from(buf.subarray(buf.length - hold));
    const data = Buffer.concat(out);
    if (data.length) this.push(data);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.pending.length) this.push(this.pending);
    done();
  }
}
