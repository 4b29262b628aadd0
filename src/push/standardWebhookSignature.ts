import { createHmac, randomBytes } from 'node:crypto';
import { InvalidSigningSecretError } from './errors';

const PREFIX = 'whsec_';
const SECRET_BYTES = 32;
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

type StandardWebhookHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

/** A new secret in the Standard Webhooks form: `whsec_` and the base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return `${PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The HMAC key of a secret. Throws InvalidSigningSecretError; the message never holds the secret. */
export function signingKeyOf(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new InvalidSigningSecretError(`it does not start with ${PREFIX}`);
  const encoded = secret.slice(PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  // Node's decoder skips what is not base64: only the one canonical encoding is a secret.
  if (key.toString('base64') !== encoded) throw new InvalidSigningSecretError('the part after the prefix is not canonical base64');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) throw new InvalidSigningSecretError(`it holds ${key.length} bytes`);
  return key;
}

/**
 * The headers of one message: `webhook-signature` holds `v1,` and the base64 HMAC-SHA256 of
 * `<id>.<timestamp>.<body>` for each secret, space-separated (two during a rotation's overlap, so
 * that a subscriber verifying with either secret accepts it).
 */
export function standardWebhookHeaders(id: string, sentAt: Date, body: string, secrets: readonly string[]): StandardWebhookHeaders {
  const timestamp = String(Math.floor(sentAt.getTime() / 1000));
  const signed = `${id}.${timestamp}.${body}`;
  const signatures = secrets.map((secret) => `v1,${createHmac('sha256', signingKeyOf(secret)).update(signed).digest('base64')}`);
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') };
}
