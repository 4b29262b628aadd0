import { Webhook } from 'standardwebhooks';
import { InvalidSigningSecretError } from '../../src/push/errors';
import { generateSigningSecret, signingKeyOf, standardWebhookHeaders } from '../../src/push/standardWebhookSignature';

const REFERENCE_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('standardWebhookHeaders', () => {
  it('signs the reference vector of the Standard Webhooks libraries', () => {
    const headers = standardWebhookHeaders('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330_000), '{"test": 2432232314}', [REFERENCE_SECRET]);
    expect(headers).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('is verified by the official standardwebhooks package, with either secret during a rotation', () => {
    const [previous, current] = [generateSigningSecret(), generateSigningSecret()];
    const body = JSON.stringify({ type: 'payment.status_changed', data: { status: 'CONFIRMED' } });
    const headers = standardWebhookHeaders('3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b', new Date(), body, [current, previous]);
    const signatureWith = (secret: string) => standardWebhookHeaders('3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b', new Date(Number(headers['webhook-timestamp']) * 1000), body, [secret])['webhook-signature'];
    expect(headers['webhook-signature']).toBe(`${signatureWith(current)} ${signatureWith(previous)}`);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(current).verify(`${body} `, headers)).toThrow();
  });
});

describe('signing secrets', () => {
  it('generates distinct secrets of 32 bytes', () => {
    const secrets = new Set(Array.from({ length: 20 }, generateSigningSecret));
    expect(secrets.size).toBe(20);
    for (const secret of secrets) expect(signingKeyOf(secret)).toHaveLength(32);
  });

  it.each([
    ['no prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['not base64', 'whsec_MfKQ9r8GKYqrTwjU!D8ILPZIo2LaLaSw'],
    ['too short', `whsec_${Buffer.alloc(16, 1).toString('base64')}`],
    ['too long', `whsec_${Buffer.alloc(65, 1).toString('base64')}`],
    ['not canonical base64', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx='],
  ])('refuses a secret with %s, without quoting it', (_, secret) => {
    let error: unknown;
    try {
      signingKeyOf(secret);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidSigningSecretError);
    expect((error as Error).message).not.toContain(secret.slice(6, 20));
  });
});
