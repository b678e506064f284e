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
