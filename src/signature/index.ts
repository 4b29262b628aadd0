export { SignatureVerificationError, type SignatureFailureReason } from './SignatureVerificationError';
export { VerificationKeySet, type VerificationKey } from './verificationKeys';
export type { SignatureAlgorithm, EcdsaSignatureEncoding } from './signatureAlgorithms';
export { algorithmOfKey } from './signatureAlgorithms';
export {
  contentDigestHeaderValue,
  digestHeaderValue,
  verifyDigestHeader,
  type DigestAlgorithm,
  type DigestHeaderName,
} from './digest';
export { buildSignatureBase, type BaseFormat, type SignedMessage } from './signatureBase';
export { verifyWebhookSignature, type VerifiedSignature, type VerifyOptions } from './verifyWebhookSignature';
export {
  signWebhookRequest,
  type SignOptions,
  type SigningKey,
} from './signWebhookRequest';
export { generateKeyPair, type KeyPair, type KeyPairAlgorithm } from './keyPairs';
export { DEFAULT_DEV_KEY_DIR, loadOrCreateDevKeyPair } from './devKeyPair';
