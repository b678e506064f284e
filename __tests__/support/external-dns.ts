import { readFileSync } from "node:fs";
import * as path from "node:path";

/**
 * What external-dns 0.21.0 (chart 1.21.1) does with the flags the program
 * gives it, modelled on its source at the tag so that a test can ask "would
 * this controller manage that zone, and where would it write the owner of
 * that record?". `__tests__/upstream/external-dns-0.21.0.json` holds
 * input/output pairs from upstream's own tests that keep the model honest.
 *
 * https://github.com/kubernetes-sigs/external-dns/tree/v0.21.0
 */

interface UpstreamCases<T> {
  readonly source: string;
  readonly cases: T[];
}

export const EXTERNAL_DNS_UPSTREAM: {
  readonly ownershipRecordNames: UpstreamCases<{ prefix: string; suffix: string; wildcardReplacement: string; name: string; recordType: string; txtName: string }>;
  readonly domainFilterMatch: UpstreamCases<{ filters: string[]; domain: string; match: boolean }>;
  readonly domainFilterMatchParent: UpstreamCases<{ filters: string[]; domain: string; match: boolean }>;
  readonly zoneIdFilter: UpstreamCases<{ ids: string[]; zoneId: string; match: boolean }>;
} = JSON.parse(readFileSync(path.join(__dirname, "..", "upstream", "external-dns-0.21.0.json"), "utf8"));

/** The controller's flags as the chart's deployment template renders them from values (templates/deployment.yaml @ external-dns-helm-chart-1.21.1). */
export function controllerFlags(values: any): Map<string, string[]> {
  const args: string[] = [];
  args.push(`--policy=${values.policy}`, `--registry=${values.registry}`);
  if (values.txtOwnerId) args.push(`--txt-owner-id=${values.txtOwnerId}`);
  if (values.txtPrefix && values.txtSuffix) throw new Error("'txtPrefix' and 'txtSuffix' are mutually exclusive");
  if (values.txtPrefix) args.push(`--txt-prefix=${values.txtPrefix}`);
  else if (values.txtSuffix) args.push(`--txt-suffix=${values.txtSuffix}`);
  for (const filter of values.domainFilters ?? []) args.push(`--domain-filter=${filter}`);
  args.push(`--provider=${values.provider.name}`);
  if (Array.isArray(values.extraArgs)) args.push(...values.extraArgs);
  const flags = new Map<string, string[]>();
  for (const arg of args) {
    const [name, ...rest] = arg.replace(/^--/, "").split("=");
    flags.set(name, [...(flags.get(name) ?? []), rest.length > 0 ? rest.join("=") : "true"]);
  }
  return flags;
}

/** endpoint/domain_filter.go normalizeDomain, without the IDNA step (ASCII names only). */
const normalize = (domain: string): string => domain.trim().replace(/\.$/, "");

const prepare = (filters: readonly string[]): string[] => filters.map(normalize).filter((filter) => filter !== "");

/** endpoint/domain_filter.go (DomainFilter).Match: an empty filter matches everything. */
export function domainFilterMatch(filters: readonly string[], domain: string): boolean {
  const prepared = prepare(filters);
  if (prepared.length === 0) return true;
  const stripped = normalize(domain);
  return prepared.some(
    (filter) =>
      (filter.startsWith(".") && stripped.endsWith(filter)) ||
      (stripped.split(".").length === filter.split(".").length && stripped === filter) ||
      stripped.endsWith(`.${filter}`),
  );
}

/** endpoint/domain_filter.go (DomainFilter).MatchParent: the filter names a subdomain of `domain`. */
export function domainFilterMatchParent(filters: readonly string[], domain: string): boolean {
  const prepared = prepare(filters);
  if (prepared.length === 0) return true;
  const stripped = normalize(domain);
  return prepared.some((filter) => !filter.startsWith(".") && filter.endsWith(`.${stripped}`));
}

/** provider/zone_id_filter.go (ZoneIDFilter).Match: a case-sensitive suffix match. */
export function zoneIdFilterMatch(ids: readonly string[], zoneId: string): boolean {
  if (ids.length === 0 || (ids.length === 1 && ids[0] === "")) return true;
  return ids.some((id) => zoneId.endsWith(id));
}

export interface Zone {
  /** As the DNS API returns it: `/hostedzone/Z…` on Route 53, the ARM id on Azure. */
  readonly id: string;
  readonly name: string;
}

/** provider/aws/aws.go zones(): which public hosted zones the AWS provider manages. */
export function awsManagesZone(flags: Map<string, string[]>, zone: Zone): boolean {
  const domainFilters = flags.get("domain-filter") ?? [];
  if (!zoneIdFilterMatch(flags.get("zone-id-filter") ?? [], zone.id)) return false;
  if (!domainFilterMatch(domainFilters, zone.name)) {
    if (flags.get("aws-zone-match-parent")?.[0] !== "true") return false;
    if (!domainFilterMatchParent(domainFilters, zone.name)) return false;
  }
  return true;
}

/** provider/azure/azure.go zones(): which zones of the configured resource group the Azure provider manages. */
export function azureManagesZone(flags: Map<string, string[]>, zone: Zone): boolean {
  const zoneNameFilters = prepare(flags.get("zone-name-filter") ?? []);
  if (domainFilterMatch(flags.get("domain-filter") ?? [], zone.name) && zoneIdFilterMatch(flags.get("zone-id-filter") ?? [], zone.id)) return true;
  return zoneNameFilters.length > 0 && domainFilterMatch(zoneNameFilters, zone.name);
}

/** registry/mapper/mapper.go (AffixNameMapper).ToTXTName: the name of the TXT record that owns `name`. */
export function ownershipRecordName(name: string, recordType: string, mapper: { prefix: string; suffix: string; wildcardReplacement: string }): string {
  const template = "%{record_type}";
  const type = recordType.toLowerCase();
  const labels = name.split(".");
  const [first, rest] = [labels[0], labels.slice(1).join(".")];
  const prefix = mapper.prefix.replaceAll(template, type);
  const suffix = mapper.suffix.replaceAll(template, type);
  let head = mapper.wildcardReplacement !== "" && first === "*" ? mapper.wildcardReplacement.toLowerCase() : first;
  if (!mapper.prefix.includes(template) && !mapper.suffix.includes(template)) head = `${type}-${head}`;
  return labels.length < 2 ? `${prefix}${head}${suffix}` : `${prefix}${head}${suffix}.${rest}`;
}

/**
 * The record type a name's ownership record is named after. On EKS the
 * gateway's load balancer has a host name, which the AWS provider publishes
 * as an ALIAS A record and the TXT registry names `cname`
 * (registry/txt/registry.go generateTXTRecord); on AKS it has an IP address:
 * an A record.
 */
export const OWNED_RECORD_TYPE = { aws: "CNAME", azure: "A" } as const;

/** Whether `name` lies in the zone `zone` (the zone's apex included). */
export const inZone = (name: string, zone: string): boolean => name === zone || name.endsWith(`.${zone}`);
