import crypto from 'node:crypto';
import { SignatureVerificationError } from './errors';
import { parseDictionary } from './structuredFields';

export type DigestAlgorithm = 'sha-256' | 'sha-512';

/** `digest` is Upvest v6 (RFC 3230), `content-digest` is v15 (RFC 9530). */
export type DigestHeaderName = 'digest' | 'content-digest';

export const DIGEST_HEADER_NAMES: readonly DigestHeaderName[] = ['digest', 'content-digest'];

const NODE_HASH: Record<DigestAlgorithm, string> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

interface ClaimedDigest {
  algorithm: DigestAlgorithm;
  digest: Buffer;
}

/** The `digest` header value for a body, e.g. `SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=`. */
export function digestHeaderValue(body: Buffer, algorithm: DigestAlgorithm = 'sha-256'): string {
  return `${algorithm.toUpperCase()}=${hash(body, algorithm).toString('base64')}`;
}

/** The `content-digest` header value for a body, e.g. `sha-512=:WZDPaVn/...==:`. */
export function contentDigestHeaderValue(body: Buffer, algorithm: DigestAlgorithm = 'sha-512'): string {
  return `${algorithm}=:${hash(body, algorithm).toString('base64')}:`;
}

export function digestHeaderValueFor(name: DigestHeaderName, body: Buffer): string {
  return name === 'digest' ? digestHeaderValue(body) : contentDigestHeaderValue(body);
}

/**
 * Throws unless the header matches the raw body bytes. A header may carry several algorithms: every
 * supported one must match (an attacker could otherwise pair a correct weak value with a wrong strong
 * one), unsupported ones are ignored, and at least one must be supported.
 */
export function verifyDigestHeader(name: DigestHeaderName, value: string, body: Buffer): void {
  const claimed = name === 'digest' ? parseDigest(value) : parseContentDigest(value);
  if (claimed.length === 0) {
    throw new SignatureVerificationError('unverifiable_component', `${name} header has no SHA-256 or SHA-512 value`);
  }
  for (const { algorithm, digest } of claimed) {
    const actual = hash(body, algorithm);
    // Lengths are public (fixed per algorithm); timingSafeEqual requires them equal.
    if (digest.length !== actual.length || !crypto.timingSafeEqual(digest, actual)) {
      throw new SignatureVerificationError('digest_mismatch', `${name} header does not match the body`);
    }
  }
}

// `SHA-256=<base64>[, SHA-512=<base64>]`; algorithm names are case-insensitive (RFC 3230).
function parseDigest(value: string): ClaimedDigest[] {
  return value.split(',').flatMap((entry) => {
    const equals = entry.indexOf('=');
    if (equals <= 0) throw malformed('digest');
    const algorithm = entry.slice(0, equals).trim().toLowerCase();
    const encoded = entry.slice(equals + 1).trim();
    if (!isDigestAlgorithm(algorithm)) return [];
    if (!BASE64.test(encoded)) throw malformed('digest');
    return [{ algorithm, digest: Buffer.from(encoded, 'base64') }];
  });
}

// A structured-field dictionary of byte sequences: `sha-512=:<base64>:, sha-256=:<base64>:`.
function parseContentDigest(value: string): ClaimedDigest[] {
  let dictionary;
  try {
    dictionary = parseDictionary(value);
  } catch {
    throw malformed('content-digest');
  }
  return [...dictionary].flatMap(([algorithm, [digest]]) => {
    if (!isDigestAlgorithm(algorithm)) return [];
    if (!(digest instanceof ArrayBuffer)) throw malformed('content-digest');
    return [{ algorithm, digest: Buffer.from(digest) }];
  });
}

function isDigestAlgorithm(name: string): name is DigestAlgorithm {
  return Object.hasOwn(NODE_HASH, name);
}

function hash(body: Buffer, algorithm: DigestAlgorithm): Buffer {
  return crypto.createHash(NODE_HASH[algorithm]).update(body).digest();
}

function malformed(name: DigestHeaderName): SignatureVerificationError {
  return new SignatureVerificationError('malformed_header', `${name} header is malformed`);
}
