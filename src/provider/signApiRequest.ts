import crypto from 'node:crypto';
import { httpbis } from 'http-message-signatures';
import { contentDigestHeaderValue, createSignature, type SigningKey } from '../signature';

export interface ApiRequest {
  method: string;
  url: URL;
  /** Lower-case names. */
  headers: Record<string, string>;
  body?: Buffer;
}

/** Covered components in the order Upvest's v15 documentation lists them; each only when present. */
export const V15_COMPONENTS: readonly string[] = [
  '@method',
  '@path',
  '@query',
  'accept',
  'authorization',
  'content-length',
  'content-type',
  'content-digest',
  'idempotency-key',
  'upvest-client-id',
];

const SIGNATURE_LIFETIME_SECONDS = 30;

/**
 * Returns the request's headers plus `content-digest` (when there is a body), `signature-input`
 * and `signature`: Upvest "v15" (RFC 9421, quoted names), parameters keyid, created, expires, nonce.
 * http-message-signatures builds the base; its built-in signers lack P-521, so the signer is ours.
 */
export async function signApiRequest(request: ApiRequest, key: SigningKey, now: Date = new Date()): Promise<Record<string, string>> {
  const headers = { ...request.headers };
  if (request.body !== undefined && request.body.length > 0) {
    headers['content-length'] = String(request.body.length);
    headers['content-digest'] = contentDigestHeaderValue(request.body, 'sha-512');
  }
  const fields = V15_COMPONENTS.filter((name) => {
    if (name === '@query') return request.url.search !== '';
    return name.startsWith('@') || headers[name] !== undefined;
  });
  const created = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const signed = await httpbis.signMessage(
    {
      key: { id: key.kid, sign: async (data: Buffer) => createSignature(key.privateKey, data, 'der') },
      name: 'sig1',
      fields: [...fields],
      params: ['keyid', 'created', 'expires', 'nonce'],
      paramValues: {
        created,
        expires: new Date(created.getTime() + SIGNATURE_LIFETIME_SECONDS * 1000),
        nonce: crypto.randomBytes(12).toString('base64url'),
      },
    },
    { method: request.method, url: request.url, headers },
  );
  return Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
}
