import { SignatureVerificationError } from './errors';

/**
 * `v6`: Upvest's webhook signatures (draft-ietf-httpbis-message-signatures-06 with component names
 * NOT quoted). `v15`: RFC 9421 / Upvest API signatures, names quoted.
 */
export type BaseFormat = 'v6' | 'v15';

/** The parts of an HTTP request that a signature can cover. */
export interface SignedMessage {
  method: string;
  /** Public path the provider sent to (may differ from what the app sees behind an ingress). */
  path: string;
  /** '' or '?a=b'. */
  query: string;
  /** Public host[:port] from configuration; undefined = not configured. */
  authority?: string;
  /** 'https' from configuration; undefined = not configured. */
  scheme?: string;
  /** Node-style: lower-case names. */
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The string that is signed: one `name: value` line per covered component, in the order the
 * signature lists them, then the `@signature-params` line carrying `signatureParams` verbatim.
 */
export function buildSignatureBase(
  components: readonly string[],
  signatureParams: string,
  message: SignedMessage,
  format: BaseFormat,
): string {
  const label = format === 'v6' ? (name: string) => name : (name: string) => `"${name}"`;
  return [
    ...components.map((component) => `${label(component)}: ${componentValue(component, message)}`),
    `${label('@signature-params')}: ${signatureParams}`,
  ].join('\n');
}

function componentValue(component: string, message: SignedMessage): string {
  switch (component) {
    case '@method':
      return message.method;
    case '@path':
      return message.path || '/';
    case '@query':
      // RFC 9421 §2.2.7: an absent query is the lone '?'.
      return message.query || '?';
    case '@authority':
      return configured(message.authority, component).toLowerCase();
    case '@scheme':
      return configured(message.scheme, component).toLowerCase();
    case '@target-uri': {
      const scheme = configured(message.scheme, component).toLowerCase();
      const authority = configured(message.authority, component).toLowerCase();
      return `${scheme}://${authority}${message.path || '/'}${message.query}`;
    }
  }
  if (component.startsWith('@')) {
    throw new SignatureVerificationError(
      'unverifiable_component',
      `the signature covers ${component}, which this receiver does not support`,
    );
  }
  return coveredHeaderValue(component, message.headers);
}

// The Host header is chosen by whoever sends the request, so the public address the provider
// signed for must come from configuration; without it the component cannot be checked.
function configured(value: string | undefined, component: string): string {
  if (value === undefined) {
    throw new SignatureVerificationError(
      'unverifiable_component',
      `the signature covers ${component} but WEBHOOK_PUBLIC_URL is not configured`,
    );
  }
  return value;
}

/** A covered header's component value. RFC 9421 §2.1: each field line trimmed, several joined by ', '. */
export function coveredHeaderValue(name: string, headers: SignedMessage['headers']): string {
  // The name comes from the request: `headers[name]` alone would find `constructor` or `__proto__` on Object.prototype.
  const value = Object.hasOwn(headers, name) ? headers[name] : undefined;
  if (value === undefined) {
    throw new SignatureVerificationError('missing_header', `the signature covers the ${name} header, which is missing`);
  }
  return (Array.isArray(value) ? value : [value]).map((line) => line.trim()).join(', ');
}
