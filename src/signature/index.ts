export {
  KeySourceUnavailableError,
  SIGNATURE_FAILURE_REASONS,
  SignatureVerificationError,
  type SignatureFailureReason,
} from './errors';
export { VerificationKeySet, type KeyLookup, type VerificationKey } from './verificationKeys';
export {
  algorithmOfKey,
  createSignature,
  type EcdsaSignatureEncoding,
  type SignatureAlgorithm,
} from './signatureAlgorithms';
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
