import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { classifyAddress, type LookupFn, resolveVetted, SsrfError } from './addresses.js';

const BLOCKED: Array<[string, RegExp]> = [
  ['127.0.0.1', /loopback/],
  ['127.255.255.254', /loopback/],
  ['0.0.0.0', /unspecified/],
  ['0.1.2.3', /unspecified/],
  ['10.1.2.3', /private/],
  ['172.31.255.255', /private/],
  ['192.168.0.1', /private/],
  ['169.254.1.1', /link-local/],
  ['169.254.169.254', /metadata/],
  ['100.64.0.1', /carrier-grade/],
  ['100.127.255.255', /carrier-grade/],
  ['224.0.0.251', /multicast/],
  ['255.255.255.255', /broadcast/],
  ['240.0.0.1', /reserved/],
  ['192.0.2.10', /documentation/],
  ['198.51.100.7', /documentation/],
  ['203.0.113.9', /documentation/],
  ['198.18.0.1', /benchmarking/],
  ['::', /unspecified/],
  ['::1', /loopback/],
  ['fe80::1', /link-local/],
  ['fe80::1%eth0', /link-local/],
  ['fc00::1', /unique local/],
  ['fd12:3456::1', /unique local/],
  ['fd00:ec2::254', /metadata/],
  ['ff02::1', /multicast/],
  ['2001:db8::1', /documentation/],
  ['[::1]', /loopback/],
  // IPv4 inside IPv6, both spellings of each
  ['::ffff:127.0.0.1', /loopback.*mapped/],
  ['::ffff:7f00:1', /loopback.*mapped/],
  ['0:0:0:0:0:ffff:7f00:1', /loopback.*mapped/],
  ['::ffff:169.254.169.254', /metadata/],
  ['::ffff:a9fe:a9fe', /metadata/],
  ['::ffff:10.0.0.1', /private/],
  ['::7f00:1', /loopback.*compatible/],
  ['::ffff:0:7f00:1', /loopback.*SIIT/],
  ['64:ff9b::7f00:1', /loopback.*NAT64/],
  ['64:ff9b::169.254.169.254', /metadata.*NAT64/],
  ['2002:7f00:1::', /loopback.*6to4/],
  ['2002:a9fe:a9fe::1', /metadata.*6to4/],
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', /loopback.*Teredo/],
  ['5f00::1', /segment routing/],
  ['::2:3:4', /compatible|unassigned/],
];

const PUBLIC = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.215.14',
  '2606:4700:4700::1111',
  '2a00:1450:4001::200e',
  '64:ff9b::808:808',
  '2002:808:808::1',
  '::ffff:8.8.8.8',
];

describe('classifyAddress', () => {
  for (const [ip, range] of BLOCKED) {
    it(`blocks ${ip} as ${range.source}`, () => {
      const verdict = classifyAddress(ip);
      assert.equal(verdict.blocked, true);
      if (verdict.blocked) assert.match(verdict.range, range);
    });
  }
  for (const ip of PUBLIC) {
    it(`lets public ${ip} through`, () => assert.deepEqual(classifyAddress(ip), { blocked: false }));
  }

  it('refuses what is not a canonical IP address (fail closed)', () => {
    for (const bad of [
      '',
      'localhost',
      '0177.0.0.1',
      '0x7f.1',
      '2130706433',
      '127.1',
      '1.2.3.4.5',
      '::ffff:zz',
    ])
      assert.equal(classifyAddress(bad).blocked, true, bad);
  });

  it('judges every IPv4-mapped IPv6 address exactly like its IPv4 address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const plain = classifyAddress(v4).blocked;
        const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
        const hex = `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        assert.equal(classifyAddress(`::ffff:${v4}`).blocked, plain);
        assert.equal(classifyAddress(hex).blocked, plain);
      }),
      { numRuns: 2000 },
    );
  });
});

const table =
  (entries: Record<string, string[]>): LookupFn =>
  async (host) =>
    (entries[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('resolveVetted', () => {
  it('returns the address of a public name', async () => {
    const got = await resolveVetted('api.example.com', {
      lookup: table({ 'api.example.com': ['93.184.215.14'] }),
    });
    assert.deepEqual(got, { address: '93.184.215.14', family: 4 });
  });

  it('refuses a public-looking name that resolves to a private address, naming address and range', async () => {
    await assert.rejects(
      resolveVetted('totally-public.example', { lookup: table({ 'totally-public.example': ['10.0.0.7'] }) }),
      (error: unknown) =>
        error instanceof SsrfError &&
        error.code === 'http.ssrf-blocked' &&
        error.address === '10.0.0.7' &&
        /private/.test(error.range) &&
        error.message.includes('`10.0.0.7`'),
    );
  });

  it('refuses a name when ANY of its addresses is blocked (rebinding with mixed answers)', async () => {
    const lookup = table({ 'mixed.example': ['93.184.215.14', '169.254.169.254'] });
    await assert.rejects(resolveVetted('mixed.example', { lookup }), /metadata/);
  });

  it('vets IP literals without a lookup, bracketed or not', async () => {
    let called = false;
    const lookup: LookupFn = async () => {
      called = true;
      return [];
    };
    await assert.rejects(resolveVetted('[::ffff:7f00:1]', { lookup }), SsrfError);
    assert.deepEqual(await resolveVetted('8.8.8.8', { lookup }), { address: '8.8.8.8', family: 4 });
    assert.equal(called, false);
  });

  it('resolves a trailing-dot name as the name itself', async () => {
    const lookup = table({ 'internal.example': ['127.0.0.1'] });
    await assert.rejects(resolveVetted('internal.example.', { lookup }), /loopback/);
  });

  it('uses the system resolver by default (localhost is loopback)', async () => {
    await assert.rejects(resolveVetted('localhost'), SsrfError);
  });

  it('allowPrivate skips the range checks (test-only escape hatch)', async () => {
    const lookup = table({ 'svc.test': ['127.0.0.1'] });
    assert.equal((await resolveVetted('svc.test', { lookup, allowPrivate: true })).address, '127.0.0.1');
  });
});
