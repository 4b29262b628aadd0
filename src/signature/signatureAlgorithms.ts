import crypto from 'node:crypto';

export type SignatureAlgorithm = 'ecdsa-p521-sha512' | 'ecdsa-p384-sha384' | 'ecdsa-p256-sha256' | 'ed25519';

export type EcdsaSignatureEncoding = 'der' | 'raw';

type EcdsaAlgorithm = Exclude<SignatureAlgorithm, 'ed25519'>;

interface EcdsaParameters {
  /** OpenSSL curve name, as KeyObject.asymmetricKeyDetails reports it. */
  curve: string;
  hash: string;
  /** Length of an IEEE P1363 (r||s) signature: twice the curve's coordinate size. */
  rawLength: number;
}

const ECDSA: Record<EcdsaAlgorithm, EcdsaParameters> = {
  'ecdsa-p521-sha512': { curve: 'secp521r1', hash: 'sha512', rawLength: 132 },
  'ecdsa-p384-sha384': { curve: 'secp384r1', hash: 'sha384', rawLength: 96 },
  'ecdsa-p256-sha256': { curve: 'prime256v1', hash: 'sha256', rawLength: 64 },
};

const NODE_DSA_ENCODING = { der: 'der', raw: 'ieee-p1363' } as const;

/** The algorithm a key signs with; throws for key types Upvest does not use. */
export function algorithmOfKey(key: crypto.KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  const namedCurve = key.asymmetricKeyDetails?.namedCurve;
  const match = Object.entries(ECDSA).find(([, parameters]) => parameters.curve === namedCurve);
  if (key.asymmetricKeyType !== 'ec' || !match) {
    const description = namedCurve ?? key.asymmetricKeyType ?? key.type;
    throw new Error(`unsupported key type ${description}: expected EC P-521, P-384, P-256 or Ed25519`);
  }
  return match[0] as EcdsaAlgorithm;
}

/** Signs synchronously: only the send tool, tests and benchmarks sign. */
export function createSignature(
  key: crypto.KeyObject,
  data: Buffer,
  ecdsaEncoding: EcdsaSignatureEncoding,
): Buffer {
  const algorithm = algorithmOfKey(key);
  if (algorithm === 'ed25519') return crypto.sign(null, data, key);
  return crypto.sign(ECDSA[algorithm].hash, data, { key, dsaEncoding: NODE_DSA_ENCODING[ecdsaEncoding] });
}

/**
 * Checks a signature without blocking the event loop: the callback form of crypto.verify runs in
 * libuv's thread pool, so several verifications proceed on several cores at once.
 * ECDSA signatures are accepted as ASN.1 DER (what Upvest's signers emit) or raw r||s.
 */
export async function verifySignature(
  algorithm: SignatureAlgorithm,
  key: crypto.KeyObject,
  data: Buffer,
  signature: Buffer,
): Promise<boolean> {
  if (algorithm === 'ed25519') return verifyAsync(null, data, key, signature);
  const { hash, rawLength } = ECDSA[algorithm];
  for (const encoding of plausibleEncodings(signature, rawLength)) {
    if (await verifyAsync(hash, data, { key, dsaEncoding: NODE_DSA_ENCODING[encoding] }, signature)) return true;
  }
  return false;
}

// A raw signature can happen to look like DER (and, rarely, a DER one can have the raw length),
// so structure decides which reading comes first and the other is tried if it is also plausible.
function plausibleEncodings(signature: Buffer, rawLength: number): EcdsaSignatureEncoding[] {
  const encodings: EcdsaSignatureEncoding[] = [];
  if (looksLikeDerSequence(signature)) encodings.push('der');
  if (signature.length === rawLength) encodings.push('raw');
  return encodings;
}

// A DER SEQUENCE whose declared length matches the buffer (short or one/two-byte long form).
function looksLikeDerSequence(signature: Buffer): boolean {
  if (signature.length < 2 || signature[0] !== 0x30) return false;
  const first = signature[1];
  if (first < 0x80) return first === signature.length - 2;
  const lengthBytes = first & 0x7f;
  if (lengthBytes < 1 || lengthBytes > 2 || signature.length < 2 + lengthBytes) return false;
  return signature.readUIntBE(2, lengthBytes) === signature.length - 2 - lengthBytes;
}

function verifyAsync(
  hash: string | null,
  data: Buffer,
  key: crypto.KeyObject | crypto.VerifyKeyObjectInput,
  signature: Buffer,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    crypto.verify(hash, data, key, signature, (error, valid) => (error ? reject(error) : resolve(valid)));
  });
}
