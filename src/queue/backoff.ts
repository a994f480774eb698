/** Delay before retry number `attempt` (1-based): base, 2×base, 4×base, … */
export function backoffDelay(baseMs: number, attempt: number): number {
  return baseMs * 2 ** Math.max(0, attempt - 1);
}
