import crypto from 'node:crypto';
import {
  signWebhookRequest,
  SignatureVerificationError,
  type SignatureFailureReason,
  type SignedMessage,
  type SigningKey,
  type SignOptions,
  VerificationKeySet,
  type VerifyOptions,
} from '../../src/signature';

export const NOW = 1633529659;

export type TestMessage = SignedMessage & { body: Buffer };

export function newSigningKey(type: 'p521' | 'p256' | 'ed25519'): SigningKey {
  const { privateKey } =
    type === 'ed25519'
      ? crypto.generateKeyPairSync('ed25519')
      : crypto.generateKeyPairSync('ec', { namedCurve: type === 'p521' ? 'P-521' : 'P-256' });
  return { kid: crypto.randomUUID(), privateKey };
}

export function jwksOf(...keys: SigningKey[]): { keys: object[] } {
  return {
    keys: keys.map(({ kid, privateKey }) => ({
      kid,
      ...crypto.createPublicKey(privateKey).export({ format: 'jwk' }),
    })),
  };
}

export function keySetOf(...keys: SigningKey[]): VerificationKeySet {
  return VerificationKeySet.fromJwks(jwksOf(...keys));
}

export function webhookRequest(body = '{"payload":[]}', extra: Partial<SignedMessage> = {}): TestMessage {
  const bytes = Buffer.from(body);
  return {
    method: 'POST',
    path: '/webhooks/upvest',
    query: '',
    ...extra,
    headers: { 'content-type': 'application/json', 'content-length': String(bytes.length), ...extra.headers },
    body: bytes,
  };
}

/** The message as the receiver sees it after the provider signed it. */
export function sign(message: TestMessage, options: Partial<SignOptions> & Pick<SignOptions, 'key'>): TestMessage {
  const added = signWebhookRequest(message, { created: NOW, ...options });
  return { ...message, headers: { ...message.headers, ...added } };
}

export function verifyOptions(keys: VerificationKeySet, overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return { keyLookup: keys.lookup, baseFormat: 'v6', clockSkewSeconds: 60, maxAgeSeconds: 0, enforceExpires: false, nowSeconds: NOW, ...overrides };
}

export async function failureOf(promise: Promise<unknown>): Promise<{ reason: SignatureFailureReason; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SignatureVerificationError) return { reason: error.reason, message: error.message };
    throw error;
  }
  throw new Error('expected verification to fail');
}
