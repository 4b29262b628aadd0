import {
  contentDigestHeaderValue,
  digestHeaderValue,
  SignatureVerificationError,
  verifyDigestHeader,
} from '../../src/signature';

// Vectors from the provider's documentation (PROVIDER.md §3).
const VECTORS = [
  {
    body: '{"hello": "world"}',
    digest: 'SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=',
    contentDigest:
      'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
  },
  {
    body: '{"key": "value"}',
    digest: 'SHA-256=lyTB4g5uPk1/V+0l+dTvsAblCFkNUoyQ2ll/andcE+U=',
    contentDigest:
      'sha-512=:Hd9/AvGZkbjitW1+Ml8Fg1ux1mtcDYe6mLQjDyoowIWa3LM/PmwN2v9O+MjtQGrCA3EQWUL54dlgxKHyYbrucw==:',
  },
];

function reasonOf(check: () => void): string | undefined {
  try {
    check();
  } catch (error) {
    if (error instanceof SignatureVerificationError) return error.reason;
    throw error;
  }
  return undefined;
}

describe.each(VECTORS)('digest of $body', ({ body, digest, contentDigest }) => {
  const bytes = Buffer.from(body);

  it('computes the provider\'s v6 digest header', () => {
    expect(digestHeaderValue(bytes)).toBe(digest);
  });

  it('computes the provider\'s v15 content-digest header', () => {
    expect(contentDigestHeaderValue(bytes)).toBe(contentDigest);
  });

  it('accepts both header forms for the exact body', () => {
    expect(() => verifyDigestHeader('digest', digest, bytes)).not.toThrow();
    expect(() => verifyDigestHeader('content-digest', contentDigest, bytes)).not.toThrow();
  });

  it('rejects both header forms for a body that differs by one byte', () => {
    const other = Buffer.from(body.replace('}', ' }'));
    expect(reasonOf(() => verifyDigestHeader('digest', digest, other))).toBe('digest_mismatch');
    expect(reasonOf(() => verifyDigestHeader('content-digest', contentDigest, other))).toBe('digest_mismatch');
  });
});

describe('digest header', () => {
  const body = Buffer.from('{"hello": "world"}');

  it('treats the algorithm name case-insensitively', () => {
    expect(() => verifyDigestHeader('digest', 'sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=', body)).not.toThrow();
  });

  it('accepts SHA-512', () => {
    const sha512 = `SHA-512=${contentDigestHeaderValue(body).slice('sha-512=:'.length, -1)}`;
    expect(digestHeaderValue(body, 'sha-512')).toBe(sha512);
    expect(() => verifyDigestHeader('digest', sha512, body)).not.toThrow();
  });

  it('checks every supported algorithm when several are listed and ignores unknown ones', () => {
    const good = `MD5=whatever, ${digestHeaderValue(body)}, ${digestHeaderValue(body, 'sha-512')}`;
    expect(() => verifyDigestHeader('digest', good, body)).not.toThrow();
    const oneWrong = `${digestHeaderValue(body)}, ${digestHeaderValue(Buffer.from('x'), 'sha-512')}`;
    expect(reasonOf(() => verifyDigestHeader('digest', oneWrong, body))).toBe('digest_mismatch');
  });

  it('cannot verify a header with only unsupported algorithms', () => {
    expect(reasonOf(() => verifyDigestHeader('digest', 'MD5=rL0Y20zC+Fzt72VPzMSk2A==', body))).toBe('unverifiable_component');
  });

  it('rejects a value that is not base64 or has no algorithm', () => {
    expect(reasonOf(() => verifyDigestHeader('digest', 'SHA-256=not base64!', body))).toBe('malformed_header');
    expect(reasonOf(() => verifyDigestHeader('digest', 'X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE', body))).toBe('malformed_header');
  });

  it('rejects a digest of the wrong length', () => {
    expect(reasonOf(() => verifyDigestHeader('digest', 'SHA-256=AAAA', body))).toBe('digest_mismatch');
  });
});

describe('content-digest header', () => {
  const body = Buffer.from('{"hello": "world"}');

  it('accepts SHA-256 and several algorithms at once', () => {
    const both = `${contentDigestHeaderValue(body, 'sha-256')}, ${contentDigestHeaderValue(body, 'sha-512')}`;
    expect(() => verifyDigestHeader('content-digest', both, body)).not.toThrow();
  });

  it('rejects when any supported algorithm disagrees', () => {
    const mixed = `${contentDigestHeaderValue(body, 'sha-256')}, ${contentDigestHeaderValue(Buffer.from('x'), 'sha-512')}`;
    expect(reasonOf(() => verifyDigestHeader('content-digest', mixed, body))).toBe('digest_mismatch');
  });

  it('rejects a value that is not a structured dictionary of byte sequences', () => {
    expect(reasonOf(() => verifyDigestHeader('content-digest', 'sha-512=X48E', body))).toBe('malformed_header');
    expect(reasonOf(() => verifyDigestHeader('content-digest', 'SHA-512=:AAAA:', body))).toBe('malformed_header');
  });

  it('cannot verify a header with only unsupported algorithms', () => {
    expect(reasonOf(() => verifyDigestHeader('content-digest', 'md5=:rL0Y20zC+Fzt72VPzMSk2A==:', body))).toBe(
      'unverifiable_component',
    );
  });
});
