import dns from 'node:dns';
import { BlockList, isIP, LookupFunction } from 'node:net';
import { InvalidAllowListError, RefusedTargetError } from './errors';

type Family = 'ipv4' | 'ipv6';

// Where a subscriber must not be: this host, the internal network, the cloud's metadata service
// (169.254.169.254 is link-local). Pushing there would let whoever adds a subscription probe them.
const REFUSED_RANGES: ReadonlyArray<[range: string, family: Family, prefix: number, name: string]> = [
  ['0.0.0.0', 'ipv4', 8, 'unspecified'],
  ['127.0.0.0', 'ipv4', 8, 'loopback'],
  ['10.0.0.0', 'ipv4', 8, 'private'],
  ['172.16.0.0', 'ipv4', 12, 'private'],
  ['192.168.0.0', 'ipv4', 16, 'private'],
  ['100.64.0.0', 'ipv4', 10, 'shared address space'],
  ['169.254.0.0', 'ipv4', 16, 'link-local'],
  ['224.0.0.0', 'ipv4', 3, 'multicast or reserved'],
  ['::', 'ipv6', 128, 'unspecified'],
  ['::1', 'ipv6', 128, 'loopback'],
  ['fc00::', 'ipv6', 7, 'private'],
  ['fe80::', 'ipv6', 10, 'link-local'],
  ['ff00::', 'ipv6', 8, 'multicast or reserved'],
];

const refusedLists = REFUSED_RANGES.map(([range, family, prefix, name]) => {
  const list = new BlockList();
  list.addSubnet(range, prefix, family);
  return { list, name };
});

/** The 16 bytes of an IPv6 address (one that isIP() accepts), a trailing dotted IPv4 part included. */
function ipv6Bytes(address: string): number[] {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const hex = dotted === null ? address : `${address.slice(0, dotted.index)}${((+dotted[1] << 8) | +dotted[2]).toString(16)}:${((+dotted[3] << 8) | +dotted[4]).toString(16)}`;
  const [head, tail] = hex.split('::');
  const words = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').map((word) => parseInt(word, 16)));
  const [before, after] = [words(head), words(tail)];
  const all = tail === undefined ? before : [...before, ...new Array(8 - before.length - after.length).fill(0), ...after];
  return all.flatMap((word) => [word >> 8, word & 0xff]);
}

// IPv6 prefixes of 96 bits that carry an IPv4 address in their last 32: IPv4-mapped (::ffff:0:0/96)
// and NAT64 (64:ff9b::/96), where a gateway would connect to that IPv4 address.
const IPV4_CARRIERS = [
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff],
  [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0],
];

/** An IPv6 address that carries an IPv4 address (::ffff:10.0.0.1, 64:ff9b::a9fe:a9fe) is judged as that IPv4 address. */
function plainAddress(address: string): { address: string; family: Family } {
  if (isIP(address) !== 6) return { address, family: 'ipv4' };
  const bytes = ipv6Bytes(address);
  const carried = IPV4_CARRIERS.some((prefix) => prefix.every((byte, index) => bytes[index] === byte));
  return carried ? { address: bytes.slice(12).join('.'), family: 'ipv4' } : { address, family: 'ipv6' };
}

/** The name of the refused range the address is in, or undefined for an address on the internet. */
export function refusedRangeOf(address: string): string | undefined {
  const plain = plainAddress(address);
  return refusedLists.find(({ list }) => list.check(plain.address, plain.family))?.name;
}

/** PUSH_ALLOWED_TARGETS: the addresses and ranges a subscription may reach although they are refused otherwise. */
export class TargetAllowList {
  private readonly list = new BlockList();

  /** Throws InvalidAllowListError for an entry that is neither an address nor a CIDR range. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address, prefix, ...rest] = entry.split('/');
      const version = isIP(address);
      const bits = prefix === undefined ? (version === 6 ? 128 : 32) : Number(prefix);
      if (version === 0 || rest.length > 0 || !Number.isInteger(bits) || bits < 0 || bits > (version === 6 ? 128 : 32) || (prefix !== undefined && !/^\d+$/.test(prefix))) {
        throw new InvalidAllowListError(entry);
      }
      this.list.addSubnet(address, bits, version === 6 ? 'ipv6' : 'ipv4');
    }
  }

  allows(address: string): boolean {
    const plain = plainAddress(address);
    return this.list.check(plain.address, plain.family);
  }
}

/** Throws RefusedTargetError when the address is in a refused range that the allow-list does not name. */
export function checkTargetAddress(address: string, allowed: TargetAllowList): void {
  const range = refusedRangeOf(address);
  if (range !== undefined && !allowed.allows(address)) throw new RefusedTargetError(address, range);
}

/**
 * Checks a URL's host when it is an address: Node's HTTP client connects to an address without a
 * lookup, so checkedLookup never sees it. A name passes here and is checked when it is resolved.
 */
export function checkTargetHost(hostname: string, allowed: TargetAllowList): void {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIP(host) !== 0) checkTargetAddress(host, allowed);
}

type Resolve = (hostname: string, options: dns.LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

/**
 * A `lookup` for the HTTP client that resolves the name and refuses it if any of its addresses
 * is refused: the check runs on every new connection, on the answer used for it, so that a name
 * that resolves elsewhere later (DNS rebinding) is caught too.
 */
export function checkedLookup(allowed: TargetAllowList, resolve: Resolve = dns.lookup as Resolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, options.all === true ? [] : '', 4);
      try {
        for (const { address } of addresses) checkTargetAddress(address, allowed);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, options.all === true ? [] : '', 4);
      }
      // dns.lookup reports ENOTFOUND rather than an empty answer, but a resolver given in its place may not.
      if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
        return callback(notFound, options.all === true ? [] : '', 4);
      }
      if (options.all === true) return (callback as unknown as (error: null, addresses: dns.LookupAddress[]) => void)(null, addresses);
      const [first] = addresses;
      return callback(null, first.address, first.family);
    });
  };
}
