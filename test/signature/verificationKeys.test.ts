import crypto from 'node:crypto';
import { VerificationKeySet } from '../../src/signature';
import { jwksOf, newSigningKey } from './fixtures';

describe('VerificationKeySet.fromJwks', () => {
  it('reads EC P-521, P-256 and Ed25519 keys and names their algorithms', () => {
    const [p521, p256, ed25519] = [newSigningKey('p521'), newSigningKey('p256'), newSigningKey('ed25519')];
    const keys = VerificationKeySet.fromJwks(jwksOf(p521, p256, ed25519));

    expect(keys.kids).toEqual([p521.kid, p256.kid, ed25519.kid]);
    expect(keys.get(p521.kid)?.algorithm).toBe('ecdsa-p521-sha512');
    expect(keys.get(p256.kid)?.algorithm).toBe('ecdsa-p256-sha256');
    expect(keys.get(ed25519.kid)?.algorithm).toBe('ed25519');
    expect(keys.get(p521.kid)?.key.type).toBe('public');
    expect(keys.get('unknown')).toBeUndefined();
  });

  it('reads a P-384 key', () => {
    const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const keys = VerificationKeySet.fromJwks({ keys: [{ kid: 'p384', ...publicKey.export({ format: 'jwk' }) }] });
    expect(keys.get('p384')?.algorithm).toBe('ecdsa-p384-sha384');
  });

  it('keeps only the public key of a JWK that includes the private part', () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' });
    const keys = VerificationKeySet.fromJwks({ keys: [{ kid: 'k', ...privateKey.export({ format: 'jwk' }) }] });
    expect(keys.get('k')?.key.type).toBe('public');
  });

  const p521Jwk = () => jwksOf(newSigningKey('p521')).keys[0];
  const rsaJwk = () => crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });

  it.each([
    ['not an object', 'keys', /"keys" array/],
    ['null', null, /"keys" array/],
    ['without a keys array', { keys: {} }, /"keys" array/],
    ['an empty key list', { keys: [] }, /no keys/],
    ['a key that is not an object', { keys: ['x'] }, /key #0 is not an object/],
    ['a key without kid', { keys: [{ ...p521Jwk(), kid: undefined }] }, /key #0 has no "kid"/],
    ['a duplicate kid', { keys: [{ ...p521Jwk(), kid: 'a' }, { ...p521Jwk(), kid: 'a' }] }, /kid "a" more than once/],
    ['invalid coordinates', { keys: [{ ...p521Jwk(), kid: 'bad', x: 'AAAA' }] }, /key "bad" is unusable/],
    ['an RSA key', { keys: [{ ...rsaJwk(), kid: 'rsa' }] }, /key "rsa" is unusable: unsupported key type rsa/],
  ])('rejects %s with a clear error', (_case, jwks, message) => {
    expect(() => VerificationKeySet.fromJwks(jwks)).toThrow(message);
  });
});
