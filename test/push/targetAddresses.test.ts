import dns from 'node:dns';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { InvalidAllowListError, RefusedTargetError } from '../../src/push/errors';
import { checkedLookup, checkTargetAddress, checkTargetHost, refusedRangeOf, TargetAllowList } from '../../src/push/targetAddresses';

const NOTHING_ALLOWED = new TargetAllowList([]);

describe('refusedRangeOf', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared address space'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast or reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::10.0.0.1', 'private'],
  ])('refuses %s (%s)', (address, range) => {
    expect(refusedRangeOf(address)).toBe(range);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1', '172.32.0.1', '64:ff9b::5db8:d822', '2001:db8::a9fe:a9fe'])('lets %s through', (address) => {
    expect(refusedRangeOf(address)).toBeUndefined();
  });
});

describe('TargetAllowList', () => {
  it('allows the named addresses and ranges only', () => {
    const allowed = new TargetAllowList(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    expect(() => checkTargetHost('127.0.0.1', allowed)).not.toThrow();
    expect(() => checkTargetHost('10.200.0.7', allowed)).not.toThrow();
    expect(() => checkTargetHost('[fd00::5]', allowed)).not.toThrow();
    expect(() => checkTargetHost('::ffff:10.1.1.1', allowed)).not.toThrow();
    expect(() => checkTargetHost('127.0.0.2', allowed)).toThrow(RefusedTargetError);
    expect(() => checkTargetHost('169.254.169.254', allowed)).toThrow(RefusedTargetError);
  });

  it.each(['localhost', '10.0.0.0/33', '10.0.0.0/8/1', '::1/129', '10.0.0.1/a'])('refuses the entry %s', (entry) => {
    expect(() => new TargetAllowList([entry])).toThrow(InvalidAllowListError);
  });
});

describe('checkTargetAddress', () => {
  it('refuses an address in a refused range, naming it and the range, unless the allow-list names it', () => {
    let error: unknown;
    try {
      checkTargetAddress('10.0.0.1', NOTHING_ALLOWED);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RefusedTargetError);
    expect(error).toMatchObject({ code: 'refused_target', address: '10.0.0.1', range: 'private' });
    expect((error as Error).message).toBe('refused target 10.0.0.1: private address; name it in PUSH_ALLOWED_TARGETS to allow it');
    const allowed = new TargetAllowList(['127.0.0.1', '10.0.0.0/8']);
    for (const address of ['127.0.0.1', '10.0.0.1', '10.255.1.2', '93.184.216.34']) expect(() => checkTargetAddress(address, allowed)).not.toThrow();
    expect(() => checkTargetAddress('192.168.1.1', allowed)).toThrow(RefusedTargetError);
  });
});

describe('checkTargetHost', () => {
  it('checks addresses in URLs, and lets names pass to the lookup', () => {
    expect(() => checkTargetHost('[::1]', NOTHING_ALLOWED)).toThrow(/refused target ::1: loopback/);
    expect(() => checkTargetHost('127.0.0.1', NOTHING_ALLOWED)).toThrow(RefusedTargetError);
    expect(() => checkTargetHost('example.com', NOTHING_ALLOWED)).not.toThrow();
    expect(() => checkTargetHost('93.184.216.34', NOTHING_ALLOWED)).not.toThrow();
  });
});

describe('checkedLookup', () => {
  const resolvingTo =
    (...addresses: string[]) =>
    (_hostname: string, _options: dns.LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, found: dns.LookupAddress[]) => void) =>
      callback(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

  const lookUp = (lookup: ReturnType<typeof checkedLookup>, all: boolean) =>
    new Promise<{ error: unknown; result: unknown }>((resolve) => {
      lookup('rebinding.example', { all } as dns.LookupOptions, (error: unknown, result: unknown) => resolve({ error, result }));
    });

  it('refuses a name when any of its addresses is refused', async () => {
    const lookup = checkedLookup(NOTHING_ALLOWED, resolvingTo('93.184.216.34', '10.0.0.1'));
    for (const all of [true, false]) {
      const { error } = await lookUp(lookup, all);
      expect(error).toBeInstanceOf(RefusedTargetError);
      expect((error as RefusedTargetError).code).toBe('refused_target');
    }
  });

  it('answers ENOTFOUND when the resolver finds no address', async () => {
    const lookup = checkedLookup(NOTHING_ALLOWED, resolvingTo());
    for (const all of [true, false]) expect((await lookUp(lookup, all)).error).toMatchObject({ code: 'ENOTFOUND' });
  });

  it('answers with the addresses of a name on the internet, one or all as asked', async () => {
    const lookup = checkedLookup(NOTHING_ALLOWED, resolvingTo('93.184.216.34', '2606:4700::1'));
    expect(await lookUp(lookup, true)).toEqual({ error: null, result: [{ address: '93.184.216.34', family: 4 }, { address: '2606:4700::1', family: 6 }] });
    expect((await lookUp(lookup, false)).result).toBe('93.184.216.34');
  });

  it('stops a real connection to localhost unless the allow-list names loopback', async () => {
    const server = http.createServer((_, response) => response.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const get = (allowed: TargetAllowList) =>
      new Promise<string>((resolve) => {
        const agent = new http.Agent({ lookup: checkedLookup(allowed) } as http.AgentOptions);
        http
          .get(`http://localhost:${port}/`, { agent, family: 4 }, (response) => {
            response.resume();
            response.on('end', () => resolve(String(response.statusCode)));
          })
          .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
          .on('close', () => agent.destroy());
      });
    try {
      expect(await get(NOTHING_ALLOWED)).toBe('refused_target');
      expect(await get(new TargetAllowList(['127.0.0.1', '::1']))).toBe('200');
    } finally {
      server.close();
    }
  });
});
