/**
 * Delay before retry number `attemptsMade` (1-based): exponential from `baseMs`, capped at
 * `maxMs`, then jittered into the upper half so that jobs failed together do not retry together.
 */
export function retryDelayMs(attemptsMade: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}
