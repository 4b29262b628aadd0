import type { SignedMessage } from './signatureBase';
import { SignatureVerificationError } from './errors';
import { type Dictionary, parseDictionary, rawDictionaryMember, serializeList } from './structuredFields';

/** One signature as carried by the `signature-input` and `signature` headers, under one label. */
export interface SignatureHeaderMember {
  label: string;
  /** Covered component names, in signing order. */
  components: string[];
  /** The `signature-input` member value exactly as sent: the `@signature-params` line of the base. */
  signatureParams: string;
  keyId: string;
  created?: number;
  expires?: number;
  alg?: string;
  signature: Buffer;
}

export interface SignatureParameterValues {
  keyid: string;
  created?: number;
  expires?: number;
  nonce?: string;
}

/**
 * Reads the first label of `signature-input` that also has a `signature` member. Throws
 * SignatureVerificationError ('missing_header', 'malformed_header', 'unverifiable_component').
 */
export function readSignatureHeaders(headers: SignedMessage['headers']): SignatureHeaderMember {
  const inputText = headerText(headers, 'signature-input');
  const signatureText = headerText(headers, 'signature');
  const inputs = parse(inputText, 'signature-input');
  const signatures = parse(signatureText, 'signature');

  const label = [...inputs.keys()].find((candidate) => signatures.has(candidate));
  if (label === undefined) throw malformed('no signature-input label has a matching signature member');

  const [items, parameters] = inputs.get(label)!;
  if (!Array.isArray(items)) throw malformed(`signature-input member ${label} is not an inner list`);
  const [signature] = signatures.get(label)!;
  if (!(signature instanceof ArrayBuffer)) throw malformed(`signature member ${label} is not a byte sequence`);

  const keyId = parameters.get('keyid');
  if (typeof keyId !== 'string' || keyId === '') throw malformed(`signature-input member ${label} has no keyid`);
  const alg = parameters.get('alg');
  if (alg !== undefined && typeof alg !== 'string') throw malformed(`signature-input member ${label} has a malformed alg`);

  const components = new Set<string>();
  for (const [name, componentParameters] of items) {
    if (typeof name !== 'string') throw malformed(`signature-input member ${label} lists a component that is not a string`);
    if (componentParameters.size > 0) {
      throw new SignatureVerificationError(
        'unverifiable_component',
        `the signature covers "${name}" with parameters, which this receiver does not support`,
      );
    }
    // RFC 9421 §2.5: no signature base can be built from a list that names a component twice.
    if (components.has(name)) throw malformed(`signature-input member ${label} lists "${name}" more than once`);
    components.add(name);
  }

  return {
    label,
    components: [...components],
    // Present: the parser found this label in the same text.
    signatureParams: rawDictionaryMember(inputText, label)!,
    keyId,
    created: timestamp(parameters.get('created'), label, 'created'),
    expires: timestamp(parameters.get('expires'), label, 'expires'),
    alg,
    signature: Buffer.from(signature),
  };
}

/** The `signature-input` member value for a new signature, e.g. `("@method" "@path");keyid="k";created=1`. */
export function serializeSignatureParams(components: readonly string[], values: SignatureParameterValues): string {
  const parameters = new Map(Object.entries(values).filter(([, value]) => value !== undefined));
  return serializeList([[components.map((name) => [name, new Map()]), parameters]]);
}

function headerText(headers: SignedMessage['headers'], name: string): string {
  const value = headers[name];
  const text = Array.isArray(value) ? value.join(', ') : value;
  if (!text) throw new SignatureVerificationError('missing_header', `${name} header is missing`);
  return text;
}

function parse(text: string, name: string): Dictionary {
  try {
    return parseDictionary(text);
  } catch {
    throw malformed(`${name} header is not a valid structured-field dictionary`);
  }
}

function timestamp(value: unknown, label: string, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw malformed(`signature-input member ${label} has a malformed ${name} parameter`);
  }
  return value;
}

function malformed(detail: string): SignatureVerificationError {
  return new SignatureVerificationError('malformed_header', detail);
}
