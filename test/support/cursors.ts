const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The change feed's cursor with the lowest bit of its last character flipped: one of the 4 bits
 * that the 16-byte MAC does not use, so that both decode to the same bytes (`…VGA` and `…VGB`).
 */
export function withUnusedBitFlipped(cursor: string): string {
  const last = BASE64URL.indexOf(cursor.slice(-1));
  return `${cursor.slice(0, -1)}${BASE64URL[last ^ 1]}`;
}
