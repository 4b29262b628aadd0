import { verifyWebhookSignature } from '../../src/signature';
import { failureOf, keySetOf, newSigningKey, sign, verifyOptions, webhookRequest } from './fixtures';

describe('key rotation', () => {
  const outgoing = newSigningKey('p521');
  const incoming = newSigningKey('p521');

  it('verifies signatures from either key while both are published', async () => {
    const keys = keySetOf(outgoing, incoming);
    for (const key of [outgoing, incoming]) {
      await expect(verifyWebhookSignature(sign(webhookRequest(), { key }), verifyOptions(keys))).resolves.toMatchObject({
        keyId: key.kid,
      });
    }
  });

  it('rejects signatures from a key once it is removed from the set', async () => {
    const keys = keySetOf(incoming);
    const failure = await failureOf(verifyWebhookSignature(sign(webhookRequest(), { key: outgoing }), verifyOptions(keys)));
    expect(failure.reason).toBe('unknown_key');
  });

  it('does not accept a signature by one key presented under the other key\'s kid', async () => {
    const keys = keySetOf(outgoing, incoming);
    const forged = sign(webhookRequest(), { key: { kid: incoming.kid, privateKey: outgoing.privateKey } });
    expect((await failureOf(verifyWebhookSignature(forged, verifyOptions(keys)))).reason).toBe('bad_signature');
  });
});
