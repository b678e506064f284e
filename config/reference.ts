import { readFileSync } from "node:fs";
import * as path from "node:path";
import { closestMatch } from "./suggest";

/**
 * What exists, so that a value that only looks right (an instance type,
 * RDS class, zone or VM size) fails at synth instead of at apply. The lists
 * are data in config/reference/, each with its source and the day it was
 * read; `npm run refresh-reference-data` rebuilds them. Each file is read on
 * first use, so a config for one cloud never loads the other's lists.
 *
 * A value missing from a list is an error, except where the list may simply
 * be older than the value: a family of a known kind but of a newer
 * generation than any listed. That is a warning, and synth goes on.
 */
export const REFERENCE_DIR = path.join(__dirname, "reference");

const cache = new Map<string, unknown>();
function load<T>(file: string): T {
  if (!cache.has(file)) cache.set(file, JSON.parse(readFileSync(path.join(REFERENCE_DIR, file), "utf8")));
  return cache.get(file) as T;
}

/** A value checked against a list: fine, worth a warning, or wrong; with the sentence that says why. */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly severity: "error" | "warning"; readonly message: string };
const OK: Verdict = { ok: true };
const error = (message: string): Verdict => ({ ok: false, severity: "error", message });
const warning = (message: string): Verdict => ({ ok: false, severity: "warning", message });

// --- EC2 -------------------------------------------------------------------

export interface Ec2Family {
  readonly arch: "amd64" | "arm64";
  readonly category: string;
  readonly generation: number;
  readonly sizes: Record<string, readonly [cpu: number, memoryMib: number]>;
}
interface Ec2Data {
  readonly source: string;
  readonly retrieved: string;
  readonly families: Record<string, Ec2Family>;
}

const EC2_FILE = "aws-instance-types.json";
const ec2 = () => load<Ec2Data>(EC2_FILE);

export function ec2Families(): Record<string, Ec2Family> {
  return ec2().families;
}

/** Karpenter's instance categories (`m`, `c`, `inf`, ...) and the newest generation of each. */
export function ec2Categories(): Map<string, number> {
  const newest = new Map<string, number>();
  for (const family of Object.values(ec2Families())) newest.set(family.category, Math.max(newest.get(family.category) ?? 0, family.generation));
  return newest;
}

/** Where a list is and how old it is, for a message. */
const listed = (file: string, data: { retrieved: string }) => `config/reference/${file}, read ${data.retrieved}`;
const REFRESH = "if it is new, run `npm run refresh-reference-data`";

/** `m9i` reads as category m, generation 9: newer than the list when m's newest listed generation is lower. */
function newerFamily(family: string): { category: string; generation: number; newest: number } | undefined {
  const parts = /^([a-z]+)([0-9]+)/.exec(family);
  if (!parts) return undefined;
  const newest = ec2Categories().get(parts[1]);
  return newest !== undefined && Number(parts[2]) > newest ? { category: parts[1], generation: Number(parts[2]), newest } : undefined;
}

/** An EC2 instance family (`m7i`) Karpenter can launch. */
export function checkEc2Family(family: string): Verdict {
  if (ec2Families()[family]) return OK;
  const newer = newerFamily(family);
  if (newer) return warning(`not in the EC2 list (${listed(EC2_FILE, ec2())}), whose newest ${newer.category} generation is ${newer.newest}; ${REFRESH}`);
  const hint = closestMatch(family, Object.keys(ec2Families()));
  return error(`no EC2 instance family of that name${hint ? `; did you mean "${hint}"?` : ""} (every family Karpenter lists is in ${listed(EC2_FILE, ec2())})`);
}

/** An EC2 instance type (`m7i.large`). */
export function checkEc2InstanceType(type: string): Verdict {
  const [family, size] = type.split(".");
  const known = ec2Families()[family];
  if (known) {
    if (known.sizes[size]) return OK;
    return error(`${family} has no size ${size}; its sizes are ${Object.keys(known.sizes).join(", ")}`);
  }
  const verdict = checkEc2Family(family);
  return verdict.ok || verdict.severity === "warning" ? verdict : error(verdict.message.replace("instance family", "instance type"));
}

/** An instance category (`m`, `c`, `r`, `g`, ...). */
export function checkEc2Category(category: string): Verdict {
  if (ec2Categories().has(category)) return OK;
  const hint = closestMatch(category, [...ec2Categories().keys()]);
  return error(`no EC2 instance category of that name${hint ? `; did you mean "${hint}"?` : ""}; the categories are ${[...ec2Categories().keys()].sort().join(", ")}`);
}

/** The instance types a pool's requirements admit. */
export function ec2TypesMatching(filter: {
  readonly families?: readonly string[];
  readonly categories?: readonly string[];
  readonly minGeneration?: number;
  readonly architectures: readonly string[];
}): { type: string; cpu: number; memoryMib: number }[] {
  return Object.entries(ec2Families()).flatMap(([name, family]) => {
    if (filter.families && !filter.families.includes(name)) return [];
    if (filter.categories && !filter.categories.includes(family.category)) return [];
    if (filter.minGeneration !== undefined && family.generation < filter.minGeneration) return [];
    if (!filter.architectures.includes(family.arch)) return [];
    return Object.entries(family.sizes).map(([size, [cpu, memoryMib]]) => ({ type: `${name}.${size}`, cpu, memoryMib }));
  });
}

// --- Availability zones ------------------------------------------------------

interface ZoneData {
  readonly source: string;
  readonly retrieved: string;
  readonly zones: Record<string, string[]>;
}

/** A zone name (`eu-west-1a`) of the region. */
export function checkAvailabilityZone(zone: string, region: string): Verdict {
  const data = load<ZoneData>("aws-availability-zones.json");
  const letters = data.zones[region];
  if (!letters) return OK;
  if (zone.startsWith(region) && letters.includes(zone.slice(region.length))) return OK;
  return error(`${region} has no such zone; its zones are ${letters.map((letter) => `${region}${letter}`).join(", ")} (${listed("aws-availability-zones.json", data)})`);
}

// --- RDS -------------------------------------------------------------------

interface RdsData {
  readonly source: string;
  readonly retrieved: string;
  readonly newestMajor: number;
  readonly classes: Record<string, number[]>;
}

/** The majors an RDS class runs; the newest listed major stands for every later one. */
function rdsMajors(data: RdsData, name: string): number[] | undefined {
  return data.classes[name];
}

/** An RDS instance class for a PostgreSQL major. */
export function checkRdsClass(name: string, engineMajor: number): Verdict {
  const data = load<RdsData>("rds-postgres-classes.json");
  const runs = (majors: number[]) => majors.includes(Math.min(engineMajor, data.newestMajor)) && (engineMajor <= data.newestMajor || majors.includes(data.newestMajor));
  const majors = rdsMajors(data, name);
  const [, family, size] = name.split(".");
  if (majors) {
    if (runs(majors)) return OK;
    if (majors.length === 0) return error(`RDS offers ${name} for other engines, not PostgreSQL`);
    return error(`RDS runs PostgreSQL ${majors.length === 1 ? majors[0] : `${majors[0]} to ${majors[majors.length - 1]}`} on ${name}, not ${engineMajor}; choose a current class such as db.t4g.medium or db.m7g.large`);
  }
  const sizes = Object.keys(data.classes).filter((known) => known.startsWith(`db.${family}.`) && runs(data.classes[known]));
  if (sizes.length > 0) return error(`db.${family} has no size ${size} on RDS for PostgreSQL ${engineMajor}; its sizes are ${sizes.map((known) => known.split(".")[2]).join(", ")}`);
  if (Object.keys(data.classes).some((known) => known.startsWith(`db.${family}.`))) {
    return error(`RDS does not run PostgreSQL ${engineMajor} on db.${family}; choose a current class such as db.t4g.medium or db.m7g.large`);
  }
  // A family RDS may have added since the list was read: real as an EC2 type, or newer than the EC2 list.
  const ec2Type = checkEc2InstanceType(`${family}.${size}`);
  if (ec2Type.ok || ec2Type.severity === "warning") {
    return warning(`not in the RDS for PostgreSQL list (${listed("rds-postgres-classes.json", data)}); RDS may not offer it: ${REFRESH}, or check \`aws rds describe-orderable-db-instance-options --engine postgres\``);
  }
  const hint = closestMatch(name, Object.keys(data.classes));
  return error(`no RDS instance class of that name${hint ? `; did you mean "${hint}"?` : ""} (${listed("rds-postgres-classes.json", data)})`);
}

// --- Azure -------------------------------------------------------------------

interface AzureSizeData {
  readonly source: string[];
  readonly retrieved: string;
  readonly sizes: string[];
  readonly regions: Record<string, string>;
}
interface AzureRegionData {
  readonly source: string;
  readonly retrieved: string;
  readonly regions: Record<string, { zones: boolean; pair: string | null }>;
}

/** A compact set of members of a sorted list: one bit per entry, base64. */
export function encodeMembership(all: readonly string[], members: readonly string[]): string {
  const set = new Set(members);
  const bytes = new Uint8Array(Math.ceil(all.length / 8));
  all.forEach((name, i) => {
    if (set.has(name)) bytes[i >> 3] |= 1 << (i & 7);
  });
  return Buffer.from(bytes).toString("base64");
}

export function decodeMembership(all: readonly string[], encoded: string): Set<string> {
  const bytes = Buffer.from(encoded, "base64");
  return new Set(all.filter((_, i) => (bytes[i >> 3] & (1 << (i & 7))) !== 0));
}

/** `Standard_D4ds_v5` → series `D`, features `ds`, version 5. */
function azureSeries(size: string): { key: string; version: number } | undefined {
  const parts = /^Standard_([A-Z]+)[0-9]+(?:-[0-9]+)?([a-z]*)(?:_[A-Za-z0-9]+)*?(?:_v([0-9]+))?$/.exec(size);
  return parts ? { key: `${parts[1]}${parts[2]}`, version: Number(parts[3] ?? 1) } : undefined;
}

/** A VM size offered in an Azure region. */
export function checkAzureVmSize(size: string, location: string): Verdict {
  const data = load<AzureSizeData>("azure-vm-sizes.json");
  if (data.sizes.includes(size)) {
    const offered = data.regions[location];
    if (!offered || decodeMembership(data.sizes, offered).has(size)) return OK;
    return error(`not offered in ${location} (${listed("azure-vm-sizes.json", data)}); choose a size the region offers, such as Standard_D4ds_v5`);
  }
  const series = azureSeries(size);
  if (series) {
    const versions = data.sizes.map(azureSeries).filter((known) => known?.key === series.key).map((known) => known!.version);
    if (versions.length > 0 && series.version > Math.max(...versions)) {
      return warning(`not in the Azure VM size list (${listed("azure-vm-sizes.json", data)}), whose newest ${series.key} version is v${Math.max(...versions)}; ${REFRESH}`);
    }
  }
  const hint = closestMatch(size, data.sizes);
  return error(`no Azure VM size of that name${hint ? `; did you mean "${hint}"?` : ""} (every size Azure lists is in ${listed("azure-vm-sizes.json", data)})`);
}

/** Whether an Azure region has availability zones; undefined for a region the list does not know. */
export function azureRegionHasZones(location: string): boolean | undefined {
  return load<AzureRegionData>("azure-regions.json").regions[location]?.zones;
}

export function azureRegionsWithZones(): string[] {
  return Object.entries(load<AzureRegionData>("azure-regions.json").regions)
    .filter(([, region]) => region.zones)
    .map(([name]) => name);
}
