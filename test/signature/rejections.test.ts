import { digestHeaderValue, type SignOptions, verifyWebhookSignature } from '../../src/signature';
import { failureOf, keySetOf, newSigningKey, NOW, sign, type TestMessage, verifyOptions, webhookRequest } from './fixtures';

const key = newSigningKey('p521');
const keys = keySetOf(key);

function signed(options: Partial<SignOptions> = {}): TestMessage {
  return sign(webhookRequest(), { key, ...options });
}

function withHeaders(message: TestMessage, headers: TestMessage['headers']): TestMessage {
  return { ...message, headers: { ...message.headers, ...headers } };
}

describe('verifyWebhookSignature rejects', () => {
  it.each(['signature-input', 'signature'])('a request without the %s header: missing_header', async (name) => {
    const failure = await failureOf(verifyWebhookSignature(withHeaders(signed(), { [name]: undefined }), verifyOptions(keys)));
    expect(failure).toEqual({ reason: 'missing_header', message: `${name} header is missing` });
  });

  it.each([
    ['signature-input that is not a dictionary', { 'signature-input': 'sig1=(("nested"))' }],
    ['signature that is not a dictionary', { signature: 'sig1=:not base64 at all' }],
    ['no label present in both headers', { signature: 'other=:AAAA:' }],
    ['a signature-input member that is not an inner list', { 'signature-input': 'sig1="@method"' }],
    ['a signature member that is not a byte sequence', { signature: 'sig1="AAAA"' }],
    ['no keyid', { 'signature-input': 'sig1=("@method" "digest");created=1633529659' }],
    ['a created parameter that is not an integer', { 'signature-input': `sig1=("digest");keyid="${key.kid}";created="yesterday"` }],
  ])('%s: malformed_header', async (_case, headers) => {
    const failure = await failureOf(verifyWebhookSignature(withHeaders(signed(), headers), verifyOptions(keys)));
    expect(failure.reason).toBe('malformed_header');
  });

  it('a keyid that is not in the key set: unknown_key', async () => {
    const stranger = newSigningKey('p521');
    const failure = await failureOf(verifyWebhookSignature(sign(webhookRequest(), { key: stranger }), verifyOptions(keys)));
    expect(failure).toEqual({ reason: 'unknown_key', message: `no verification key with keyid "${stranger.kid}"` });
  });

  it('a signature that covers no digest header: missing_digest', async () => {
    const message = signed({ components: ['@method', '@path', 'content-type'] });
    const failure = await failureOf(verifyWebhookSignature(message, verifyOptions(keys)));
    expect(failure.reason).toBe('missing_digest');
  });

  it('a covered digest header that was removed: missing_header naming it', async () => {
    const failure = await failureOf(verifyWebhookSignature(withHeaders(signed(), { digest: undefined }), verifyOptions(keys)));
    expect(failure).toEqual({ reason: 'missing_header', message: 'the signature covers the digest header, which is missing' });
  });

  it('a body that does not match the signed digest: digest_mismatch', async () => {
    const message = { ...signed(), body: Buffer.from('{"payload":[{}]}') };
    const failure = await failureOf(verifyWebhookSignature(message, verifyOptions(keys)));
    expect(failure).toEqual({ reason: 'digest_mismatch', message: 'digest header does not match the body' });
  });

  it('a tampered body with a recomputed digest header but the old signature: bad_signature', async () => {
    const tampered = Buffer.from('{"payload":[{}]}');
    const message = withHeaders(
      { ...signed(), body: tampered },
      { digest: digestHeaderValue(tampered), 'content-length': String(tampered.length) },
    );
    const failure = await failureOf(verifyWebhookSignature(message, verifyOptions(keys)));
    expect(failure.reason).toBe('bad_signature');
  });

  it('a changed covered header: bad_signature', async () => {
    const message = withHeaders(signed(), { 'content-type': 'text/plain' });
    const failure = await failureOf(verifyWebhookSignature(message, verifyOptions(keys)));
    expect(failure.reason).toBe('bad_signature');
  });

  it('a request sent to another path: bad_signature', async () => {
    const message = { ...signed(), path: '/webhooks/other' };
    const failure = await failureOf(verifyWebhookSignature(message, verifyOptions(keys)));
    expect(failure.reason).toBe('bad_signature');
  });

  it('an alg parameter that contradicts the key: bad_signature', async () => {
    const message = signed();
    message.headers['signature-input'] = `${message.headers['signature-input']};alg="ed25519"`;
    const failure = await failureOf(verifyWebhookSignature(message, verifyOptions(keys)));
    expect(failure.reason).toBe('bad_signature');
  });

  it('a signature created beyond the allowed clock skew in the future: created_in_future', async () => {
    const message = signed({ created: NOW + 120 });
    const failure = await failureOf(verifyWebhookSignature(message, verifyOptions(keys, { clockSkewSeconds: 60 })));
    expect(failure).toEqual({
      reason: 'created_in_future',
      message: 'signature created 120 s in the future (allowed clock skew 60 s)',
    });
  });

  it('accepts a signature created in the future within the clock skew', async () => {
    const message = signed({ created: NOW + 60 });
    await expect(verifyWebhookSignature(message, verifyOptions(keys, { clockSkewSeconds: 60 }))).resolves.toBeDefined();
  });

  it('a signature older than maxAge plus skew: too_old', async () => {
    const message = signed({ created: NOW - 400 });
    const options = verifyOptions(keys, { maxAgeSeconds: 300, clockSkewSeconds: 60 });
    expect((await failureOf(verifyWebhookSignature(message, options))).reason).toBe('too_old');
    await expect(verifyWebhookSignature(message, { ...options, maxAgeSeconds: 0 })).resolves.toBeDefined();
    await expect(verifyWebhookSignature(message, { ...options, maxAgeSeconds: 340 })).resolves.toBeDefined();
  });

  it('a signature without created when a maximum age is configured: malformed_header', async () => {
    const message = withHeaders(signed(), {
      'signature-input': `sig1=("@method" "digest");keyid="${key.kid}"`,
    });
    const failure = await failureOf(verifyWebhookSignature(message, verifyOptions(keys, { maxAgeSeconds: 300 })));
    expect(failure.reason).toBe('malformed_header');
  });

  it('a signature past expires plus skew, only when enforceExpires: expired', async () => {
    const message = signed({ created: NOW - 100, expires: NOW - 95 });
    const options = verifyOptions(keys, { clockSkewSeconds: 60 });
    expect((await failureOf(verifyWebhookSignature(message, { ...options, enforceExpires: true }))).reason).toBe('expired');
    await expect(verifyWebhookSignature(message, { ...options, enforceExpires: false })).resolves.toBeDefined();
  });

  it('@authority covered but no public URL configured: unverifiable_component', async () => {
    const message = sign(webhookRequest('{}', { authority: 'receiver.example.com' }), {
      key,
      components: ['@method', '@authority', 'digest'],
    });
    const failure = await failureOf(verifyWebhookSignature({ ...message, authority: undefined }, verifyOptions(keys)));
    expect(failure).toEqual({
      reason: 'unverifiable_component',
      message: 'the signature covers @authority but WEBHOOK_PUBLIC_URL is not configured',
    });
  });

  it('an unsupported derived component: unverifiable_component', async () => {
    const message = withHeaders(signed(), {
      'signature-input': `sig1=("@request-target" "digest");keyid="${key.kid}"`,
    });
    expect((await failureOf(verifyWebhookSignature(message, verifyOptions(keys)))).reason).toBe('unverifiable_component');
  });

  it('a component with parameters: unverifiable_component', async () => {
    const message = withHeaders(signed(), {
      'signature-input': `sig1=("content-digest";sf "digest");keyid="${key.kid}"`,
    });
    expect((await failureOf(verifyWebhookSignature(message, verifyOptions(keys)))).reason).toBe('unverifiable_component');
  });

  it.each(['__proto__', 'constructor', 'hasOwnProperty', 'toString'])(
    'a covered component named like a member of Object.prototype (%s), which the request does not send: missing_header',
    async (name) => {
      const message = withHeaders(signed(), {
        'signature-input': `sig1=("@method" "${name}" "digest");keyid="${key.kid}";created=${NOW}`,
      });
      expect(await failureOf(verifyWebhookSignature(message, verifyOptions(keys)))).toEqual({
        reason: 'missing_header',
        message: `the signature covers the ${name} header, which is missing`,
      });
    },
  );

  it.each([
    ['a header', ['@method', 'content-digest', 'content-digest'], 'content-digest'],
    ['a derived component', ['@method', '@method', 'content-digest'], '@method'],
  ])('a signature-input that lists %s twice, even when correctly signed: malformed_header', async (_case, components, repeated) => {
    const message = sign(webhookRequest(), { key, baseFormat: 'v15', components });
    const failure = await failureOf(verifyWebhookSignature(message, verifyOptions(keys, { baseFormat: 'v15' })));
    expect(failure).toEqual({ reason: 'malformed_header', message: `signature-input member sig1 lists "${repeated}" more than once` });
  });

  it('never reveals the signature or the body in its message', async () => {
    const message = { ...signed(), body: Buffer.from('{"secret":"iban DE89..."}') };
    const failure = await failureOf(verifyWebhookSignature(message, verifyOptions(keys)));
    expect(failure.message).not.toContain('secret');
    expect(failure.message).not.toContain(String(message.headers.signature).slice(6, 20));
  });
});
