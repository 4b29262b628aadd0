import crypto from 'node:crypto';
import { algorithmOfKey, type SignatureAlgorithm } from './signatureAlgorithms';

export interface VerificationKey {
  kid: string;
  algorithm: SignatureAlgorithm;
  key: crypto.KeyObject;
}

/**
 * Finds the key a signature names by its `keyid`; undefined when there is none. May throw
 * KeySourceUnavailableError when it cannot answer now.
 */
export type KeyLookup = (kid: string) => Promise<VerificationKey | undefined>;

/**
 * The provider's public keys, looked up by the `keyid` of a signature. Holds several keys at once
 * because the provider rotates them: old and new are both valid for a while.
 */
export class VerificationKeySet {
  private constructor(private readonly byKid: ReadonlyMap<string, VerificationKey>) {}

  /** Parses a JWKS (`{"keys":[...]}`); throws an Error naming the offending key when it is unusable. */
  static fromJwks(jwks: unknown): VerificationKeySet {
    if (!isObject(jwks) || !Array.isArray(jwks.keys)) {
      throw new Error('JWKS must be an object with a "keys" array');
    }
    if (jwks.keys.length === 0) throw new Error('JWKS contains no keys');
    const byKid = new Map<string, VerificationKey>();
    jwks.keys.forEach((jwk: unknown, index: number) => {
      const key = parseJwk(jwk, index);
      if (byKid.has(key.kid)) throw new Error(`JWKS contains kid "${key.kid}" more than once`);
      byKid.set(key.kid, key);
    });
    return new VerificationKeySet(byKid);
  }

  get(kid: string): VerificationKey | undefined {
    return this.byKid.get(kid);
  }

  /** Bound, so that it can be handed on as the KeyLookup of verifyWebhookSignature. */
  readonly lookup: KeyLookup = async (kid) => this.get(kid);

  get kids(): string[] {
    return [...this.byKid.keys()];
  }
}

function parseJwk(jwk: unknown, index: number): VerificationKey {
  if (!isObject(jwk)) throw new Error(`JWKS key #${index} is not an object`);
  const { kid } = jwk;
  if (typeof kid !== 'string' || kid === '') throw new Error(`JWKS key #${index} has no "kid"`);
  try {
    const key = crypto.createPublicKey({ key: jwk as crypto.JsonWebKey, format: 'jwk' });
    return { kid, algorithm: algorithmOfKey(key), key };
  } catch (error) {
    throw new Error(`JWKS key "${kid}" is unusable: ${(error as Error).message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
