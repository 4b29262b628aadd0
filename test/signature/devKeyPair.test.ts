import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateDevKeyPair, signWebhookRequest, VerificationKeySet, verifyWebhookSignature } from '../../src/signature';
import { verifyOptions, webhookRequest } from './fixtures';

describe('loadOrCreateDevKeyPair', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dev-keys-')), 'nested', '.local');
  });
  afterEach(() => fs.rmSync(path.dirname(path.dirname(dir)), { recursive: true, force: true }));

  it('creates the directory, a private key readable only by the owner and a JWKS with a uuid kid', () => {
    const pair = loadOrCreateDevKeyPair(dir);

    expect(fs.statSync(path.join(dir, 'dev-webhook-key.pem')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'dev-webhook-jwks.json'), 'utf8'))).toEqual(pair.jwks);
    expect(pair.kid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pair.jwks.keys).toEqual([expect.objectContaining({ kid: pair.kid, kty: 'EC', crv: 'P-521' })]);
    expect(pair.jwks.keys[0]).not.toHaveProperty('d');
  });

  it('returns the same pair on the next call', () => {
    expect(loadOrCreateDevKeyPair(dir)).toEqual(loadOrCreateDevKeyPair(dir));
  });

  it('yields a private key whose signatures the JWKS verifies', async () => {
    const pair = loadOrCreateDevKeyPair(dir);
    const message = webhookRequest();
    const key = { kid: pair.kid, privateKey: crypto.createPrivateKey(pair.privateKeyPem) };
    const signed = { ...message, headers: { ...message.headers, ...signWebhookRequest(message, { key }) } };

    const keys = VerificationKeySet.fromJwks(pair.jwks);
    await expect(verifyWebhookSignature(signed, verifyOptions(keys, { nowSeconds: undefined }))).resolves.toMatchObject({
      keyId: pair.kid,
    });
  });

  it('creates a new pair when one of the files is missing', () => {
    const first = loadOrCreateDevKeyPair(dir);
    fs.rmSync(path.join(dir, 'dev-webhook-jwks.json'));
    const second = loadOrCreateDevKeyPair(dir);
    expect(second.kid).not.toBe(first.kid);
    expect(second.privateKeyPem).not.toBe(first.privateKeyPem);
  });
});
