import { verifyWebhookSignature } from '../../src/signature';
import { failureOf, keySetOf, newSigningKey, sign, type TestMessage, verifyOptions, webhookRequest } from './fixtures';

const key = newSigningKey('p521');
const keys = keySetOf(key);
const publicAddress = { authority: 'hooks.example.com', scheme: 'https' };

async function verify(message: TestMessage) {
  return verifyWebhookSignature(message, verifyOptions(keys));
}

describe.each(['v6', 'v15'] as const)('covered components, %s base', (baseFormat) => {
  function signedWith(components: string[], extra: Parameters<typeof webhookRequest>[1] = {}): TestMessage {
    return sign(webhookRequest('{"payload":[]}', extra), { key, baseFormat, components: [...components, 'digest'] });
  }

  async function verifyIn(message: TestMessage) {
    return verifyWebhookSignature(message, verifyOptions(keys, { baseFormat }));
  }

  it('@query: verifies the signed query and rejects another one', async () => {
    const message = signedWith(['@method', '@path', '@query'], { query: '?attempt=1' });
    await expect(verifyIn(message)).resolves.toBeDefined();
    expect((await failureOf(verifyIn({ ...message, query: '?attempt=2' }))).reason).toBe('bad_signature');
  });

  it('@query: an absent query is signed as "?"', async () => {
    const message = signedWith(['@query']);
    await expect(verifyIn(message)).resolves.toBeDefined();
    expect((await failureOf(verifyIn({ ...message, query: '?a=b' }))).reason).toBe('bad_signature');
  });

  it('@authority: compared with the configured public host, not the Host header', async () => {
    const message = signedWith(['@authority'], { ...publicAddress, headers: { host: 'internal:8080' } });
    await expect(verifyIn(message)).resolves.toBeDefined();
    expect((await failureOf(verifyIn({ ...message, authority: 'evil.example.com' }))).reason).toBe('bad_signature');
  });

  it('@target-uri: built from the configured scheme and authority, the path and the query', async () => {
    const message = signedWith(['@target-uri'], { ...publicAddress, path: '/public/webhooks/upvest', query: '?x=1' });
    await expect(verifyIn(message)).resolves.toBeDefined();
    expect((await failureOf(verifyIn({ ...message, path: '/webhooks/upvest' }))).reason).toBe('bad_signature');
    expect((await failureOf(verifyIn({ ...message, scheme: undefined }))).reason).toBe('unverifiable_component');
  });

  it('@scheme: needs the configured scheme', async () => {
    const message = signedWith(['@scheme'], publicAddress);
    await expect(verifyIn(message)).resolves.toBeDefined();
    expect((await failureOf(verifyIn({ ...message, scheme: undefined }))).reason).toBe('unverifiable_component');
  });

  it('an arbitrary header such as upvest-client-id', async () => {
    const clientId = 'c0ffee00-1111-4222-8333-444455556666';
    const message = signedWith(['@method', 'upvest-client-id'], { headers: { 'upvest-client-id': clientId } });
    await expect(verifyIn(message)).resolves.toMatchObject({ coveredComponents: ['@method', 'upvest-client-id', 'digest'] });
    const otherClient = { ...message, headers: { ...message.headers, 'upvest-client-id': 'someone-else' } };
    expect((await failureOf(verifyIn(otherClient))).reason).toBe('bad_signature');
    const withoutHeader = { ...message, headers: { ...message.headers, 'upvest-client-id': undefined } };
    expect(await failureOf(verifyIn(withoutHeader))).toEqual({
      reason: 'missing_header',
      message: 'the signature covers the upvest-client-id header, which is missing',
    });
  });
});

describe('path behind an ingress', () => {
  it('verifies against the public path the provider signed, not the path the app routes on', async () => {
    const signedPublic = sign(webhookRequest('{}', { path: '/payments/webhooks/upvest' }), { key });
    await expect(verify(signedPublic)).resolves.toBeDefined();
    expect((await failureOf(verify({ ...signedPublic, path: '/webhooks/upvest' }))).reason).toBe('bad_signature');
  });
});
