/**
 * Splits text into pieces of at most `limit` characters, preferring paragraph breaks, then
 * line breaks, then spaces; a word longer than the limit is cut. Nothing is lost: joining the
 * pieces with the separators they were split on gives back the text (minus trimmed whitespace).
 */
function splitPlain(text: string, limit: number): string[] {
  if (limit < 1) throw new RangeError('limit must be positive');
  const chunks: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1);
    let cut = -1;
    // A paragraph or line break in the second half of the window beats a later space.
    for (const sep of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(sep);
      if (at > (sep === ' ' ? 0 : limit / 2)) {
        cut = at;
        break;
      }
    }
    if (cut <= 0) cut = limit;
    chunks.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) chunks.push(rest);
  return chunks;
}

const FENCE = /^\s*```(.*)$/;

/**
 * Like splitPlain, and a Markdown code block cut by a split stays a code block: the piece that
 * ends inside it gets a closing fence and the next piece reopens it (with its language). Every
 * piece stays within `limit`.
 */
export function chunkText(text: string, limit: number): string[] {
  if (!text.includes('```') || limit < 64) return splitPlain(text, limit);
  let open: string | undefined; // the opening fence line while inside a block
  return splitPlain(text, limit - 20).map((piece) => {
    const head = open !== undefined ? `${open}\n` : '';
    for (const line of piece.split('\n')) {
      const m = FENCE.exec(line);
      if (m) open = open === undefined ? '```' + m[1]!.trim().slice(0, 12) : undefined;
    }
    const tail = open !== undefined ? '\n```' : '';
    return head + piece + tail;
  });
}
