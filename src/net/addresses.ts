import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { WardenError } from '../contract/errors.js';

/**
 * Which network addresses an agent may reach. Shared by the HTTP executor and the sandbox's
 * network proxy: both resolve a name once with `resolveVetted` and connect only to the address it
 * returns, so a name cannot be re-resolved to somewhere else between the check and the connect.
 */

/** Resolves a host name to every address it has. Injected by tests; defaults to the system resolver. */
export type LookupFn = (host: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export type AddressClass = { blocked: false } | { blocked: true; range: string };

/** A request to a blocked address. `code` is the stable reason code. */
export class SsrfError extends WardenError {
  override readonly name = 'SsrfError';
  declare readonly code: 'http.ssrf-blocked';
  readonly address: string;
  readonly range: string;
  constructor(host: string, address: string, range: string) {
    super(
      'http.ssrf-blocked',
      host === address
        ? `address \`${address}\` is in a blocked range (${range}); requests to internal addresses are refused`
        : `host \`${host}\` resolves to \`${address}\`, which is in a blocked range (${range}); requests to internal addresses are refused`,
      { stage: 'execute' },
    );
    this.address = address;
    this.range = range;
  }
}

/** Cloud instance metadata services (named so the reason says what was attempted). */
const METADATA_V4 = new Set(['169.254.169.254', '169.254.170.2', '168.63.129.16', '100.100.100.200']);
const METADATA_V6 = new Set(['fd00:ec2::254']);

// ipaddr.js range names → the names Warden reports. Anything not `unicast` is blocked.
const V4_NAMES: Record<string, string> = {
  unspecified: 'unspecified 0.0.0.0/8',
  broadcast: 'broadcast',
  multicast: 'multicast 224.0.0.0/4',
  linkLocal: 'link-local 169.254.0.0/16',
  loopback: 'loopback 127.0.0.0/8',
  carrierGradeNat: 'carrier-grade NAT 100.64.0.0/10',
  private: 'private (RFC 1918)',
  reserved: 'reserved, documentation or benchmarking',
  as112: 'AS112 sink',
  amt: 'AMT relay',
};
const V6_NAMES: Record<string, string> = {
  unspecified: 'unspecified ::',
  linkLocal: 'link-local fe80::/10',
  multicast: 'multicast ff00::/8',
  loopback: 'loopback ::1',
  uniqueLocal: 'unique local fc00::/7',
  deprecatedSiteLocal: 'site-local fec0::/10',
  discard: 'discard 100::/64',
  benchmarking: 'benchmarking 2001:2::/48',
  reserved: 'reserved or documentation',
  segmentRouting: 'segment routing 5f00::/16',
  amt: 'AMT 2001:3::/32',
  as112v6: 'AS112 sink',
  deprecatedOrchid: 'ORCHID',
  orchid2: 'ORCHIDv2',
  droneRemoteIdProtocolEntityTags: 'drone remote ID 2001:30::/28',
};

const IPV4_DOTTED = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Whether `ip` is an address an agent must not reach: loopback, unspecified, private, unique
 * local, link-local, carrier-grade NAT, multicast, broadcast, reserved, documentation and
 * benchmarking ranges, cloud metadata endpoints, and the same addresses embedded in IPv6 (IPv4
 * mapped `::ffff:a.b.c.d`, IPv4 compatible `::a.b.c.d`, SIIT, NAT64 `64:ff9b::/96`, 6to4, Teredo).
 * IPv6 outside global unicast `2000::/3` is blocked. Input that is not an IP address is blocked
 * (`range: 'not an IP address'`): fail closed.
 *
 * Only canonical spellings are accepted for IPv4 (dotted decimal): other spellings (`0x7f.1`,
 * `2130706433`) must go through WHATWG URL parsing first, which normalises them.
 *
 * @example
 * classifyAddress('::ffff:127.0.0.1'); // { blocked: true, range: 'loopback 127.0.0.0/8 (IPv4-mapped IPv6)' }
 */
export function classifyAddress(ip: string): AddressClass {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const version = isIP(bare.split('%')[0] ?? '');
  if (version === 4) {
    if (!IPV4_DOTTED.test(bare)) return { blocked: true, range: 'not an IP address' };
    return classifyV4(ipaddr.IPv4.parse(bare));
  }
  if (version !== 6) return { blocked: true, range: 'not an IP address' };
  let v6: ipaddr.IPv6;
  try {
    v6 = ipaddr.IPv6.parse(bare);
  } catch {
    return { blocked: true, range: 'not an IP address' };
  }
  return classifyV6(v6);
}

function classifyV4(v4: ipaddr.IPv4): AddressClass {
  const text = v4.toString();
  if (METADATA_V4.has(text)) return { blocked: true, range: 'cloud metadata endpoint' };
  const range = v4.range();
  if (range === 'unicast') return { blocked: false };
  return { blocked: true, range: V4_NAMES[range] ?? range };
}

function classifyV6(v6: ipaddr.IPv6): AddressClass {
  const text = v6.toNormalizedString();
  if (METADATA_V6.has(v6.toString())) return { blocked: true, range: 'cloud metadata endpoint' };
  const embedded = embeddedV4(v6);
  if (embedded) {
    const inner = classifyV4(embedded.v4);
    return inner.blocked ? { blocked: true, range: `${inner.range} (${embedded.via})` } : inner;
  }
  const range = v6.range();
  if (range === 'unicast') {
    // Only global unicast 2000::/3 is routable on the internet; the rest is unassigned.
    const first = v6.parts[0] ?? 0;
    if ((first & 0xe000) !== 0x2000) return { blocked: true, range: `unassigned IPv6 (${text})` };
    return { blocked: false };
  }
  return { blocked: true, range: V6_NAMES[range] ?? range };
}

/** The IPv4 address embedded in an IPv6 one by a transition mechanism, if any. */
function embeddedV4(v6: ipaddr.IPv6): { v4: ipaddr.IPv4; via: string } | undefined {
  const p = v6.parts;
  const word = (hi: number, lo: number) =>
    new ipaddr.IPv4([(hi >> 8) & 0xff, hi & 0xff, (lo >> 8) & 0xff, lo & 0xff]);
  const zeros = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  const hi = p[6] ?? 0;
  const lo = p[7] ?? 0;
  if (zeros(0, 5) && p[5] === 0xffff) return { v4: word(hi, lo), via: 'IPv4-mapped IPv6' };
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return { v4: word(hi, lo), via: 'SIIT IPv6' };
  // ::a.b.c.d (deprecated IPv4-compatible); `::` and `::1` are handled by their own ranges.
  if (zeros(0, 6) && (hi !== 0 || lo > 1)) return { v4: word(hi, lo), via: 'IPv4-compatible IPv6' };
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return { v4: word(hi, lo), via: 'NAT64 64:ff9b::/96' };
  if (p[0] === 0x64 && p[1] === 0xff9b && p[2] === 1)
    return { v4: word(hi, lo), via: 'NAT64 64:ff9b:1::/48' };
  if (p[0] === 0x2002) return { v4: word(p[1] ?? 0, p[2] ?? 0), via: '6to4 2002::/16' };
  if (p[0] === 0x2001 && p[1] === 0) {
    // Teredo: the client's address is the last 32 bits, inverted; the server's is bits 32–63.
    const client = word(hi ^ 0xffff, lo ^ 0xffff);
    const server = word(p[2] ?? 0, p[3] ?? 0);
    if (classifyV4(client).blocked) return { v4: client, via: 'Teredo client' };
    return { v4: server, via: 'Teredo server' };
  }
  return undefined;
}

export interface ResolveOptions {
  lookup?: LookupFn;
  /**
   * DANGEROUS, for tests only: skip the range checks. Never wired to a policy field; the HTTP
   * executor exposes only a narrower `permit` list of exact address and port pairs.
   */
  allowPrivate?: boolean;
}

const systemLookup: LookupFn = async (host) => {
  const found = await dnsLookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/**
 * Resolves `host` once and vets every address. Refuses (throws `SsrfError`) when ANY address the
 * name resolves to is blocked, not just the first: a name that answers with both a public and an
 * internal address is a rebinding trick, and choosing among the answers would let a later
 * resolution pick the other. Returns the first address; connect to it and nothing else.
 * IP literals (plain or `[v6]`) are vetted without a lookup.
 *
 * @example
 * const { address, family } = await resolveVetted('api.example.com');
 * http.request({ host: 'api.example.com', lookup: (_h, _o, cb) => cb(null, address, family) });
 */
export async function resolveVetted(
  host: string,
  options: ResolveOptions = {},
): Promise<{ address: string; family: 4 | 6 }> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const literal = isIP(bare);
  let addresses: { address: string; family: 4 | 6 }[];
  if (literal !== 0) addresses = [{ address: bare, family: literal === 6 ? 6 : 4 }];
  else {
    const name = bare.endsWith('.') ? bare.slice(0, -1) : bare;
    if (name === '') throw new SsrfError(host, host, 'empty host name');
    addresses = await (options.lookup ?? systemLookup)(name);
  }
  if (addresses.length === 0) throw new Error(`host \`${host}\` has no addresses`);
  if (!options.allowPrivate) {
    for (const { address } of addresses) {
      const verdict = classifyAddress(address);
      if (verdict.blocked) throw new SsrfError(host, address, verdict.range);
    }
  }
  return addresses[0] as { address: string; family: 4 | 6 };
}
