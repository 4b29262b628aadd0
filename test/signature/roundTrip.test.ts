import { verifyWebhookSignature } from '../../src/signature';
import { keySetOf, newSigningKey, NOW, sign, verifyOptions, webhookRequest } from './fixtures';

const p521 = newSigningKey('p521');
const p256 = newSigningKey('p256');
const ed25519 = newSigningKey('ed25519');
const keys = keySetOf(p521, p256, ed25519);

describe.each(['v6', 'v15'] as const)('sign then verify, %s base', (baseFormat) => {
  it.each([
    ['P-521, DER signature', p521, 'der'],
    ['P-521, raw r||s signature', p521, 'raw'],
    ['P-256, DER signature', p256, 'der'],
    ['P-256, raw r||s signature', p256, 'raw'],
    ['Ed25519', ed25519, 'der'],
  ] as const)('verifies %s', async (_name, key, ecdsaSignatureEncoding) => {
    const message = sign(webhookRequest(), { key, baseFormat, ecdsaSignatureEncoding });

    await expect(verifyWebhookSignature(message, verifyOptions(keys, { baseFormat }))).resolves.toEqual({
      keyId: key.kid,
      label: 'sig1',
      created: NOW,
      coveredComponents: [
        '@method',
        '@path',
        'content-length',
        'content-type',
        baseFormat === 'v6' ? 'digest' : 'content-digest',
      ],
    });
  });

  it('rejects a signature made over the other format', async () => {
    const message = sign(webhookRequest(), { key: p521, baseFormat });
    const otherFormat = baseFormat === 'v6' ? 'v15' : 'v6';
    await expect(verifyWebhookSignature(message, verifyOptions(keys, { baseFormat: otherFormat }))).rejects.toMatchObject({
      reason: 'bad_signature',
    });
  });
});

describe('signer output', () => {
  it('emits a 132-byte signature for raw P-521 and a DER sequence by default', () => {
    const signatureBytes = (encoding: 'der' | 'raw') => {
      const { headers } = sign(webhookRequest(), { key: p521, ecdsaSignatureEncoding: encoding });
      return Buffer.from(String(headers.signature).slice('sig1=:'.length, -1), 'base64');
    };
    expect(signatureBytes('raw')).toHaveLength(132);
    expect(signatureBytes('der')[0]).toBe(0x30);
  });

  it('uses Upvest\'s header layout: digest, signature-input with keyid/created/expires/nonce, signature', () => {
    const { headers } = sign(webhookRequest('{"hello": "world"}'), { key: p521, nonce: 'o085M4cMgpbicuOL' });
    expect(headers.digest).toBe('SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=');
    expect(headers['signature-input']).toBe(
      `sig1=("@method" "@path" "content-length" "content-type" "digest");keyid="${p521.kid}";created=${NOW};expires=${NOW + 5};nonce="o085M4cMgpbicuOL"`,
    );
    expect(headers.signature).toMatch(/^sig1=:[A-Za-z0-9+/]+={0,2}:$/);
  });

  it('adds content-digest (SHA-512) for v15', () => {
    const { headers } = sign(webhookRequest('{"hello": "world"}'), { key: p521, baseFormat: 'v15' });
    expect(headers['content-digest']).toBe(
      'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
    );
    expect(headers.digest).toBeUndefined();
  });
});

describe('signature selection', () => {
  it('verifies the first signature-input label that has a signature, under any label name', async () => {
    const message = sign(webhookRequest(), { key: p521, label: 'upvest' });
    message.headers['signature-input'] = `unsigned=("@method");keyid="nobody", ${message.headers['signature-input']}`;

    await expect(verifyWebhookSignature(message, verifyOptions(keys))).resolves.toMatchObject({ label: 'upvest' });
  });
});
