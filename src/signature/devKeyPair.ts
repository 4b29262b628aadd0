import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPair, type KeyPair } from './keyPairs';
import { VerificationKeySet } from './verificationKeys';

/** Relative to the current working directory, shared by the service and the send tool. */
export const DEFAULT_DEV_KEY_DIR = '.local';

const PRIVATE_KEY_FILE = 'dev-webhook-key.pem';
const JWKS_FILE = 'dev-webhook-jwks.json';

/**
 * A local P-521 key pair for development, so that the service (which verifies with the JWKS) and
 * the send tool (which signs with the private key) agree without any setup. Created on first use;
 * if either file is missing both are created anew. Never for production.
 */
export function loadOrCreateDevKeyPair(dir: string): KeyPair {
  const privateKeyPath = path.join(dir, PRIVATE_KEY_FILE);
  const jwksPath = path.join(dir, JWKS_FILE);
  if (!fs.existsSync(privateKeyPath) || !fs.existsSync(jwksPath)) {
    const pair = generateKeyPair('p521');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(privateKeyPath, pair.privateKeyPem, { mode: 0o600 });
    fs.writeFileSync(jwksPath, `${JSON.stringify(pair.jwks, null, 2)}\n`);
    return pair;
  }
  const jwks = JSON.parse(fs.readFileSync(jwksPath, 'utf8'));
  // Validates the file and yields the kid the private key is known by.
  const [kid] = VerificationKeySet.fromJwks(jwks).kids;
  return { kid, privateKeyPem: fs.readFileSync(privateKeyPath, 'utf8'), jwks };
}
