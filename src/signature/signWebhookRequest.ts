import crypto from 'node:crypto';
import { DIGEST_HEADER_NAMES, digestHeaderValueFor } from './digest';
import { type BaseFormat, buildSignatureBase, type SignedMessage } from './signatureBase';
import { serializeSignatureParams } from './signatureHeaders';
import { createSignature, type EcdsaSignatureEncoding } from './signatureAlgorithms';

/** EC P-521 (or P-384/P-256) or Ed25519; the algorithm follows from the key. */
export interface SigningKey {
  kid: string;
  privateKey: crypto.KeyObject;
}

export interface SignOptions {
  key: SigningKey;
  /** Default 'v6', what Upvest uses for webhooks. */
  baseFormat?: BaseFormat;
  /** Default: DEFAULT_COVERED_COMPONENTS[baseFormat]. */
  components?: string[];
  /** Unix seconds; default now. */
  created?: number;
  /** Unix seconds; default created + 5, as Upvest does. */
  expires?: number;
  /** Default 16 random characters. */
  nonce?: string;
  /** Default 'sig1'. */
  label?: string;
  /** Default 'der', what Upvest's signers emit. */
  ecdsaSignatureEncoding?: EcdsaSignatureEncoding;
}

export const DEFAULT_COVERED_COMPONENTS: Record<BaseFormat, readonly string[]> = {
  v6: ['@method', '@path', 'content-length', 'content-type', 'digest'],
  v15: ['@method', '@path', 'content-length', 'content-type', 'content-digest'],
};

/**
 * Signs a request the way Upvest signs webhooks. Returns the headers to add to `message.headers`:
 * the covered digest header(s) computed from the body, `signature-input` and `signature`. Every
 * other covered header (e.g. content-type, content-length) must already be in `message.headers`.
 */
export function signWebhookRequest(message: SignedMessage & { body: Buffer }, options: SignOptions): Record<string, string> {
  const format = options.baseFormat ?? 'v6';
  const components = options.components ?? DEFAULT_COVERED_COMPONENTS[format];
  const label = options.label ?? 'sig1';
  const created = options.created ?? Math.floor(Date.now() / 1000);

  const digests = Object.fromEntries(
    DIGEST_HEADER_NAMES.filter((name) => components.includes(name)).map((name) => [
      name,
      digestHeaderValueFor(name, message.body),
    ]),
  );
  const signatureParams = serializeSignatureParams(components, {
    keyid: options.key.kid,
    created,
    expires: options.expires ?? created + 5,
    nonce: options.nonce ?? crypto.randomBytes(12).toString('base64url'),
  });
  const base = buildSignatureBase(
    components,
    signatureParams,
    { ...message, headers: { ...message.headers, ...digests } },
    format,
  );
  const signature = createSignature(options.key.privateKey, Buffer.from(base), options.ecdsaSignatureEncoding ?? 'der');
  return {
    ...digests,
    'signature-input': `${label}=${signatureParams}`,
    signature: `${label}=:${signature.toString('base64')}:`,
  };
}
