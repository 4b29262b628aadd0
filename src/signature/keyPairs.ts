import crypto from 'node:crypto';

export type KeyPairAlgorithm = 'p521' | 'ed25519';

export interface KeyPair {
  kid: string;
  privateKeyPem: string;
  /** The public half as a JWKS, the form the provider publishes its keys in. */
  jwks: { keys: object[] };
}

/** A new signing key pair with a random uuid as kid. */
export function generateKeyPair(algorithm: KeyPairAlgorithm): KeyPair {
  const { privateKey } =
    algorithm === 'p521'
      ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' })
      : crypto.generateKeyPairSync('ed25519');
  const kid = crypto.randomUUID();
  return {
    kid,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    jwks: { keys: [{ kid, ...crypto.createPublicKey(privateKey).export({ format: 'jwk' }) }] },
  };
}
