import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, validateConfig, type PlatformConfig } from "../config";
import { TXT_OWNERSHIP_PREFIX, TXT_WILDCARD_REPLACEMENT } from "../constructs/addons/external-dns";
import { exposedDomains } from "../constructs/environment/domain";
import { releaseValues } from "./addons-fixtures";
import {
  awsManagesZone,
  azureManagesZone,
  controllerFlags,
  domainFilterMatch,
  domainFilterMatchParent,
  EXTERNAL_DNS_UPSTREAM,
  inZone,
  ownershipRecordName,
  OWNED_RECORD_TYPE,
  zoneIdFilterMatch,
} from "./support/external-dns";
import { configWith, synthesize } from "./support/synth";

const AZURE_IDS = JSON.parse(readFileSync(path.join(__dirname, "upstream", "azure-dns-zone-ids.json"), "utf8"));
const SUBSCRIPTION = "00000000-0000-4000-8000-0000000000a2";
const ROUTE53_ZONE = "Z0123456789ABCDEFGHIJ";

/** An Azure zone id in one of the two spellings of azure-dns-zone-ids.json. */
const azureZoneId = (format: string, resourceGroup: string, zone: string): string =>
  format.replace("{subscriptionId}", SUBSCRIPTION).replace("{resourceGroupName}", resourceGroup).replace("{zoneName}", zone);

describe("the model of external-dns 0.21.0 agrees with upstream's own test cases", () => {
  it.each(EXTERNAL_DNS_UPSTREAM.ownershipRecordNames.cases)("names the owner of $name ($recordType) with prefix '$prefix', suffix '$suffix' $txtName", (c) => {
    expect(ownershipRecordName(c.name, c.recordType, c)).toBe(c.txtName);
  });
  it.each(EXTERNAL_DNS_UPSTREAM.domainFilterMatch.cases)("matches $domain against $filters: $match", (c) => {
    expect(domainFilterMatch(c.filters, c.domain)).toBe(c.match);
  });
  it.each(EXTERNAL_DNS_UPSTREAM.domainFilterMatchParent.cases)("matches $domain as a parent of $filters: $match", (c) => {
    expect(domainFilterMatchParent(c.filters, c.domain)).toBe(c.match);
  });
  it.each(EXTERNAL_DNS_UPSTREAM.zoneIdFilter.cases)("matches zone $zoneId against ids $ids: $match", (c) => {
    expect(zoneIdFilterMatch(c.ids, c.zoneId)).toBe(c.match);
  });
});

/**
 * The controller's flags for each cloud, with the Terraform references in
 * them replaced by what they resolve to: the Route 53 zone id, or the Azure
 * zone id as Terraform (azurerm) writes it.
 */
function flagsOf(config: PlatformConfig) {
  // The whole program, as other tests of these configurations synthesize it (once per worker).
  const synth = { aws: synthesize(config).stack("aws-addons"), azure: synthesize(config).stack("azure-addons") };
  const zone = config.domain.existingZone?.name ?? config.domain.base;
  const resourceGroup = config.domain.existingZone?.resourceGroup ?? "acme-platform";
  const resolve = (values: any, reference: string) => JSON.parse(JSON.stringify(values).replace(/\$\{[^}]*\}/g, reference));
  return {
    zone,
    resourceGroup,
    aws: controllerFlags(resolve(releaseValues(synth.aws)["external-dns"], ROUTE53_ZONE)),
    azure: controllerFlags(resolve(releaseValues(synth.azure)["external-dns"], azureZoneId(AZURE_IDS.terraform.format, resourceGroup, zone))),
  };
}

const configs: [string, () => PlatformConfig][] = [
  ["a zone for the base domain (the example)", () => loadConfig()],
  ["an existing parent zone of the base domain", () => validateConfig(configWith((raw) => (raw.domain.existingZone = { name: "example.com", resourceGroup: "dns" })))],
];

describe.each(configs)("external-dns 0.21.0 with the flags the program gives it, for %s", (_name, config) => {
  it("manages the platform's Route 53 zone, as Route 53 lists it", () => {
    const { aws, zone } = flagsOf(config());
    expect(awsManagesZone(aws, { id: `/hostedzone/${ROUTE53_ZONE}`, name: `${zone}.` })).toBe(true);
    // And no other zone of the account.
    expect(awsManagesZone(aws, { id: "/hostedzone/ZOTHERZONE", name: `${zone}.` })).toBe(false);
  });

  it("manages the platform's Azure DNS zone, as the Azure DNS API lists it", () => {
    const { azure, zone, resourceGroup } = flagsOf(config());
    expect(azureManagesZone(azure, { id: azureZoneId(AZURE_IDS.api.format, resourceGroup, zone), name: zone })).toBe(true);
  });

  it.each(["aws", "azure"] as const)("writes the ownership record of every exposed name on %s inside the zone", (cloud) => {
    const flags = flagsOf(config())[cloud];
    const { zone } = flagsOf(config());
    const mapper = { prefix: flags.get("txt-prefix")?.[0] ?? "", suffix: flags.get("txt-suffix")?.[0] ?? "", wildcardReplacement: flags.get("txt-wildcard-replacement")?.[0] ?? "" };
    const names = exposedDomains(config().domain, config().environments).flatMap((exposed) => exposed.names);
    expect(names).toContain(config().domain.base);
    const outside = names.map((name) => ownershipRecordName(name, OWNED_RECORD_TYPE[cloud], mapper)).filter((owner) => !inZone(owner, zone));
    expect(outside).toEqual([]);
  });
});

describe("the ownership records the program asks for", () => {
  it("carry the record type in a label of their own, and replace a wildcard's *", () => {
    const mapper = { prefix: TXT_OWNERSHIP_PREFIX, suffix: "", wildcardReplacement: TXT_WILDCARD_REPLACEMENT };
    expect(ownershipRecordName("apps.example.com", "CNAME", mapper)).toBe("extdns-cname.apps.example.com");
    expect(ownershipRecordName("*.develop.apps.example.com", "CNAME", mapper)).toBe("extdns-cname.wildcard.develop.apps.example.com");
    expect(ownershipRecordName("*.apps.example.com", "A", mapper)).toBe("extdns-a.wildcard.apps.example.com");
  });

  it("are where docs/dns-and-tls.md's migration puts the twin of every ownership record written before", () => {
    const docs = readFileSync(path.join(__dirname, "..", "docs", "dns-and-tls.md"), "utf8");
    const [, from, to] = /\.Name \|= sub\("([^"]+)"; "([^"]+)"\)/.exec(docs)!;
    const before = { prefix: "", suffix: "", wildcardReplacement: TXT_WILDCARD_REPLACEMENT };
    const after = { prefix: TXT_OWNERSHIP_PREFIX, suffix: "", wildcardReplacement: TXT_WILDCARD_REPLACEMENT };
    const names = exposedDomains(loadConfig().domain, loadConfig().environments).flatMap((exposed) => exposed.names);
    for (const name of names) {
      const old = ownershipRecordName(name, OWNED_RECORD_TYPE.aws, before);
      expect(old.replace(new RegExp(from), to), name).toBe(ownershipRecordName(name, OWNED_RECORD_TYPE.aws, after));
    }
  });

  it("are what the chart passes to the controller", () => {
    const flags = flagsOf(loadConfig()).aws;
    expect(flags.get("txt-prefix")).toEqual([TXT_OWNERSHIP_PREFIX]);
    expect(flags.get("txt-wildcard-replacement")).toEqual([TXT_WILDCARD_REPLACEMENT]);
  });
});
