import { httpbis } from 'http-message-signatures';
import { buildSignatureBase, type SignedMessage } from '../../src/signature';
import { readSignatureHeaders, serializeSignatureParams } from '../../src/signature/signatureHeaders';

// The request of the PROVIDER.md §3 example: body {"hello": "world"} (18 bytes).
const SIGNATURE_INPUT =
  'sig1=("@method" "@path" "content-length" "content-type" "digest");keyid="5b2a3c1e-8f4d-4b7a-9c2e-1d3f5a7b9c0e";created=1633529659;expires=1633529664;nonce="o085M4cMgpbicuOL"';
const SIGNATURE_PARAMS = SIGNATURE_INPUT.slice('sig1='.length);
const message: SignedMessage = {
  method: 'POST',
  path: '/webhooks/upvest',
  query: '',
  headers: {
    'content-length': '18',
    'content-type': 'application/json',
    digest: 'SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=',
    'signature-input': SIGNATURE_INPUT,
    signature: 'sig1=:AAAA:',
  },
};

describe('v6 signature base (Upvest webhooks)', () => {
  it('is the PROVIDER.md example: unquoted names and the signature-input member verbatim', () => {
    const { components, signatureParams } = readSignatureHeaders(message.headers);
    expect(buildSignatureBase(components, signatureParams, message, 'v6')).toBe(
      [
        '@method: POST',
        '@path: /webhooks/upvest',
        'content-length: 18',
        'content-type: application/json',
        'digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=',
        `@signature-params: ${SIGNATURE_PARAMS}`,
      ].join('\n'),
    );
  });

  it('keeps the signature-params text exactly as sent, even when not canonical', () => {
    const spaced = '("@method" "digest");  keyid="k";created=1633529659';
    const { signatureParams } = readSignatureHeaders({
      'signature-input': `other=("@path");keyid="x", sig1=${spaced}`,
      signature: 'sig1=:AAAA:',
    });
    expect(signatureParams).toBe(spaced);
  });

  it('is written by the signer in the same form as Upvest sends it', () => {
    const params = serializeSignatureParams(
      ['@method', '@path', 'content-length', 'content-type', 'digest'],
      { keyid: '5b2a3c1e-8f4d-4b7a-9c2e-1d3f5a7b9c0e', created: 1633529659, expires: 1633529664, nonce: 'o085M4cMgpbicuOL' },
    );
    expect(params).toBe(SIGNATURE_PARAMS);
  });

  it('joins repeated header lines with ", " after trimming each', () => {
    const base = buildSignatureBase(['x-list'], '()', { ...message, headers: { 'x-list': [' a ', 'b'] } }, 'v6');
    expect(base).toBe('x-list: a, b\n@signature-params: ()');
  });
});

describe('v15 signature base (RFC 9421)', () => {
  it('quotes component names and matches http-message-signatures', () => {
    const components = [
      '@method',
      '@authority',
      '@path',
      '@query',
      '@target-uri',
      '@scheme',
      'content-type',
      'digest',
      'upvest-client-id',
    ];
    const headers = { ...message.headers, 'upvest-client-id': 'c0ffee00-1111-4222-8333-444455556666' };
    const params = serializeSignatureParams(components, { keyid: 'k', created: 1633529659 });
    const ours = buildSignatureBase(
      components,
      params,
      { ...message, query: '?page=2', authority: 'receiver.example.com', scheme: 'https', headers },
      'v15',
    );

    const reference = httpbis.createSignatureBase(
      { fields: components },
      { method: 'POST', url: 'https://receiver.example.com/webhooks/upvest?page=2', headers: headers as Record<string, string> },
    );
    reference.push(['"@signature-params"', [params]]);
    expect(ours).toBe(httpbis.formatSignatureBase(reference));
    expect(ours.split('\n')[0]).toBe('"@method": POST');
  });
});
