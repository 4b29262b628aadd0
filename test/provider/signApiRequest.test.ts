import crypto from 'node:crypto';
import { type ApiRequest, signApiRequest } from '../../src/provider/signApiRequest';
import { buildSignatureBase, type KeyPairAlgorithm, verifyWebhookSignature } from '../../src/signature';
import { readSignatureHeaders } from '../../src/signature/signatureHeaders';
import { parseDictionary } from '../../src/signature/structuredFields';
import { testKey, type TestKey } from '../support/upvestClientSetup';

const HELLO_WORLD = '{"hello": "world"}';
// PROVIDER.md §3, content-digest (v15) column.
const CONTENT_DIGESTS: Array<[string, string]> = [
  [HELLO_WORLD, 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:'],
  ['{"key": "value"}', 'sha-512=:Hd9/AvGZkbjitW1+Ml8Fg1ux1mtcDYe6mLQjDyoowIWa3LM/PmwN2v9O+MjtQGrCA3EQWUL54dlgxKHyYbrucw==:'],
];

const API_HEADERS = {
  accept: 'application/json',
  authorization: 'Bearer token-1',
  'upvest-client-id': '363f3305-7ab0-4e82-a158-f9d382ad08b6',
  'upvest-api-version': '1',
  'upvest-signature-version': '15',
};

const keys: Record<KeyPairAlgorithm, TestKey> = { p521: testKey('p521'), ed25519: testKey('ed25519') };

function getWithQuery(): ApiRequest {
  return { method: 'GET', url: new URL('https://sandbox.upvest.co/payments/withdrawals?limit=10&offset=20'), headers: { ...API_HEADERS } };
}

function postWithBody(body = '{"title":"payments"}'): ApiRequest {
  return {
    method: 'POST',
    url: new URL('https://sandbox.upvest.co/webhooks'),
    headers: { ...API_HEADERS, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: Buffer.from(body),
  };
}

/** What a server receiving `request` with `headers` sees, for the repo's own verifier. */
function received(request: ApiRequest, headers: Record<string, string>) {
  return { method: request.method, path: request.url.pathname, query: request.url.search, headers, body: request.body ?? Buffer.alloc(0) };
}

function verify(request: ApiRequest, headers: Record<string, string>, key: TestKey) {
  return verifyWebhookSignature(received(request, headers), {
    keyLookup: key.keys.lookup,
    baseFormat: 'v15',
    clockSkewSeconds: 60,
    maxAgeSeconds: 0,
    enforceExpires: true,
    requireDigest: request.body !== undefined,
  });
}

async function coveredComponents(request: ApiRequest): Promise<string[]> {
  return readSignatureHeaders(await signApiRequest(request, keys.p521)).components;
}

describe('signApiRequest', () => {
  it.each(['p521', 'ed25519'] as const)('produces headers that verify as v15 for a %s key, with and without a body', async (algorithm) => {
    const key = keys[algorithm];
    for (const request of [getWithQuery(), postWithBody()]) {
      await expect(verify(request, await signApiRequest(request, key), key)).resolves.toMatchObject({ keyId: key.kid });
    }
  });

  it('no longer verifies when the body is changed after signing', async () => {
    const request = postWithBody('{"enabled":true}');
    const headers = await signApiRequest(request, keys.p521);
    await expect(verify({ ...request, body: Buffer.from('{"enabled":false}') }, headers, keys.p521)).rejects.toMatchObject({ reason: 'digest_mismatch' });
  });

  it('keeps the request headers and adds content-length and content-digest only for a body', async () => {
    const get = await signApiRequest(getWithQuery(), keys.p521);
    expect(get).toMatchObject(API_HEADERS);
    expect(get).not.toHaveProperty('content-digest');
    expect(get).not.toHaveProperty('content-length');

    const post = await signApiRequest(postWithBody(HELLO_WORLD), keys.p521);
    expect(post).toMatchObject({ ...API_HEADERS, 'content-length': '18', 'content-digest': CONTENT_DIGESTS[0][1] });
  });

  it('covers the components in the documented v15 order, each only when present', async () => {
    expect(await coveredComponents(getWithQuery())).toEqual(['@method', '@path', '@query', 'accept', 'authorization', 'upvest-client-id']);
    expect(await coveredComponents({ ...getWithQuery(), url: new URL('https://sandbox.upvest.co/webhooks') })).toEqual([
      '@method',
      '@path',
      'accept',
      'authorization',
      'upvest-client-id',
    ]);
    expect(await coveredComponents(postWithBody())).toEqual([
      '@method',
      '@path',
      'accept',
      'authorization',
      'content-length',
      'content-type',
      'content-digest',
      'idempotency-key',
      'upvest-client-id',
    ]);
  });

  it('does not cover the upvest version headers', async () => {
    const covered = await coveredComponents(postWithBody());
    expect(covered).not.toContain('upvest-api-version');
    expect(covered).not.toContain('upvest-signature-version');
  });

  it('sets the parameters keyid, created, expires and nonce, and no alg', async () => {
    const now = new Date('2021-10-06T14:14:19.750Z');
    const headers = await signApiRequest(getWithQuery(), keys.p521, now);
    const [, parameters] = parseDictionary(headers['signature-input']).get('sig1')!;

    expect([...parameters.keys()]).toEqual(['keyid', 'created', 'expires', 'nonce']);
    expect(parameters.get('keyid')).toBe(keys.p521.kid);
    expect(parameters.get('created')).toBe(1633529659);
    const lifetime = (parameters.get('expires') as number) - 1633529659;
    expect(lifetime).toBeGreaterThanOrEqual(1);
    expect(lifetime).toBeLessThanOrEqual(60);
    expect(parameters.get('nonce')).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{8,}$/));
    expect(headers.signature).toMatch(/^sig1=:[A-Za-z0-9+/]+=*:$/);
  });

  it('uses a new nonce for every signature', async () => {
    const nonceOf = async () => parseDictionary((await signApiRequest(getWithQuery(), keys.p521))['signature-input']).get('sig1')![1].get('nonce');
    expect(await nonceOf()).not.toBe(await nonceOf());
  });

  it.each(['p521', 'ed25519'] as const)('signs the base with quoted component names, as in the PROVIDER.md example (%s)', async (algorithm) => {
    const key = keys[algorithm];
    const request: ApiRequest = {
      method: 'POST',
      url: new URL('https://sandbox.upvest.co/webhooks/upvest'),
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(HELLO_WORLD),
    };
    const headers = await signApiRequest(request, key);
    const { components, signatureParams, signature } = readSignatureHeaders(headers);

    const base = buildSignatureBase(components, signatureParams, received(request, headers), 'v15');
    expect(base).toBe(
      [
        '"@method": POST',
        '"@path": /webhooks/upvest',
        '"content-length": 18',
        '"content-type": application/json',
        `"content-digest": ${CONTENT_DIGESTS[0][1]}`,
        `"@signature-params": ${signatureParams}`,
      ].join('\n'),
    );
    const publicKey = crypto.createPublicKey(key.privateKey);
    const hash = algorithm === 'p521' ? 'sha512' : null;
    expect(crypto.verify(hash, Buffer.from(base), publicKey, signature)).toBe(true);
    const unquoted = buildSignatureBase(components, signatureParams, received(request, headers), 'v6');
    expect(crypto.verify(hash, Buffer.from(unquoted), publicKey, signature)).toBe(false);
  });

  it.each(CONTENT_DIGESTS)('computes the documented sha-512 content-digest of %s', async (body, contentDigest) => {
    expect((await signApiRequest(postWithBody(body), keys.p521))['content-digest']).toBe(contentDigest);
  });
});
