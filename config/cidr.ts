import ipaddr from "ipaddr.js";

/** An IPv4 network in CIDR notation, parsed once. */
export interface Ipv4Network {
  readonly cidr: string;
  readonly prefixLength: number;
  readonly first: number;
  readonly last: number;
}

function toUint32(address: ipaddr.IPv4): number {
  return address.toByteArray().reduce((acc, octet) => acc * 256 + octet, 0);
}

/**
 * Parses `a.b.c.d/n`. Returns undefined for anything else, including host
 * addresses with bits set beyond the prefix (`10.0.0.1/16`), which Terraform
 * and the clouds reject or silently truncate.
 */
export function parseIpv4Network(cidr: string): Ipv4Network | undefined {
  if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(cidr)) return undefined;
  const [address, prefixLength] = ipaddr.IPv4.parseCIDR(cidr);
  const network = ipaddr.IPv4.networkAddressFromCIDR(cidr);
  if (toUint32(network) !== toUint32(address)) return undefined;
  return {
    cidr,
    prefixLength,
    first: toUint32(network),
    last: toUint32(ipaddr.IPv4.broadcastAddressFromCIDR(cidr)),
  };
}

export function overlaps(a: Ipv4Network, b: Ipv4Network): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** True when `inner` lies entirely inside `outer`. */
export function contains(outer: Ipv4Network, inner: Ipv4Network): boolean {
  return outer.first <= inner.first && inner.last <= outer.last;
}

/** Ranges no packet from the internet comes from: RFC 1918, shared (CGNAT), loopback, link-local, "this network", multicast and reserved. */
export const NON_PUBLIC_RANGES = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4"].map(
  (cidr) => parseIpv4Network(cidr)!,
);

/** The RFC 1918 ranges: where a cluster's service range must lie on EKS. */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((cidr) => parseIpv4Network(cidr)!);

/** How many addresses a set of networks covers together, overlaps counted once. */
export function coveredAddresses(networks: readonly Ipv4Network[]): number {
  const sorted = [...networks].sort((a, b) => a.first - b.first);
  let total = 0;
  let end = -1;
  for (const network of sorted) {
    if (network.last <= end) continue;
    total += network.last - Math.max(network.first, end + 1) + 1;
    end = network.last;
  }
  return total;
}

/*
 * The same rules as regular expressions, so that the JSON Schema editors read
 * (config/platform.schema.json) marks what synth refuses: a network with host
 * bits set, a prefix out of range, a network inside a range it may not be in.
 */
const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const alternatives = (values: readonly (string | number)[]) => `(${values.join("|")})`;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** `a.b.c.d/n` with no host bits set, for every prefix length from `min` to `max`. */
export function networkPattern(min = 0, max = 32): string {
  const forPrefix = (prefix: number) => {
    const full = Math.floor(prefix / 8);
    const bits = prefix % 8;
    const octets = [0, 1, 2, 3].map((i) => {
      if (i < full) return OCTET;
      if (i === full && bits > 0) return alternatives(range(0, 2 ** bits - 1).map((n) => n * 2 ** (8 - bits)));
      return "0";
    });
    return `${octets.join("\\.")}/${prefix}`;
  };
  return `^${alternatives(range(min, max).map(forPrefix))}$`;
}

/** The start of a network inside `outer` with a prefix at least as long (a network with no host bits lies inside it then). */
export function insidePattern(outer: Ipv4Network): string {
  const octets = [24, 16, 8, 0].map((shift) => (outer.first >>> shift) & 255);
  const fixed = Math.floor(outer.prefixLength / 8);
  const bits = outer.prefixLength % 8;
  const parts = octets.map((octet, i) => {
    if (i < fixed) return String(octet);
    if (i === fixed && bits > 0) return alternatives(range(octet, octet + 2 ** (8 - bits) - 1));
    return "[0-9]{1,3}";
  });
  return `${parts.join("\\.")}/${alternatives(range(outer.prefixLength, 32))}`;
}

/** Addresses from which a public endpoint counts as open to everyone: a quarter of IPv4. */
const OPEN_TO_EVERYONE = 2 ** 30;

/**
 * Ranges admitted to a public endpoint, together: far less than the internet,
 * however it is cut into pieces (0.0.0.0/1 and 128.0.0.0/1). Each range on
 * its own (not /0, not a private range) is checked by its field's schema.
 */
export function checkPublicRanges(cidrs: readonly string[], at: (string | number)[], endpoint: string, report: (path: (string | number)[], input: unknown, message: string) => void, instead = "list your networks"): void {
  const networks = cidrs.map(parseIpv4Network).filter((network): network is Ipv4Network => network !== undefined);
  const covered = coveredAddresses(networks);
  if (covered >= OPEN_TO_EVERYONE && !networks.some((network) => network.prefixLength === 0)) {
    report(at, cidrs, `these ranges together open ${endpoint} to ${Math.round((covered / 2 ** 32) * 100)} % of all IPv4 addresses; ${instead}`);
  }
}
