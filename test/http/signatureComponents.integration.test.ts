import { createPrivateKey } from 'node:crypto';
import request from 'supertest';
import { signWebhookRequest } from '../../src/signature';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { providerKeys, signedHeaders, startTestService, TestService } from '../support/testService';

let harness: TestService;

beforeAll(async () => {
  harness = await startTestService({ ROLE: 'api' });
});

afterAll(async () => {
  await harness.stop();
});

async function signatureFailures(reason: string): Promise<number> {
  const { text } = await request(harness.metricsUrl).get('');
  const line = new RegExp(`^upvest_webhook_signature_failures_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
  return Number(line?.[1] ?? 0);
}

async function postWith(body: string, headers: Record<string, string>): Promise<request.Response> {
  return request(harness.baseUrl).post('/webhooks/upvest').set(headers).send(body);
}

function expectProblem(response: request.Response, type: string): void {
  expect(response.status).toBe(401);
  expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(JSON.parse(response.text)).toMatchObject({ type: `urn:upvest-webhook-receiver:problem:${type}`, status: 401 });
}

describe('POST /webhooks/upvest with an unusual list of covered components', () => {
  it.each(['__proto__', 'constructor', 'hasOwnProperty'])(
    'answers 401 problem+json and counts missing_header when the signature covers %s, a header the request does not send',
    async (name) => {
      const body = batchOf(withdrawalEvent());
      const headers = {
        ...signedHeaders(body),
        'signature-input': `sig1=("@method" "${name}" "digest");keyid="${providerKeys.kid}";created=${Math.floor(Date.now() / 1000)}`,
      };
      const before = await signatureFailures('missing_header');

      const response = await postWith(body, headers);

      expectProblem(response, 'signature-missing-header');
      expect(JSON.parse(response.text).detail).toBe(`the signature covers the ${name} header, which is missing`);
      expect(await signatureFailures('missing_header')).toBe(before + 1);
    },
  );

  it('answers 401 problem+json and counts malformed_header when the signature lists a component twice, even signed correctly', async () => {
    const body = batchOf(withdrawalEvent());
    const bytes = Buffer.from(body);
    const plain = { 'content-type': 'application/json', 'content-length': String(bytes.length) };
    const signature = signWebhookRequest(
      { method: 'POST', path: '/webhooks/upvest', query: '', headers: plain, body: bytes },
      {
        key: { kid: providerKeys.kid, privateKey: createPrivateKey(providerKeys.privateKeyPem) },
        components: ['@method', '@method', 'digest', 'digest'],
      },
    );
    const before = await signatureFailures('malformed_header');

    const response = await postWith(body, { ...plain, ...signature });

    expectProblem(response, 'signature-malformed-header');
    expect(JSON.parse(response.text).detail).toBe('signature-input member sig1 lists "@method" more than once');
    expect(await signatureFailures('malformed_header')).toBe(before + 1);
  });
});
