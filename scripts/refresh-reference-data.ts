/**
 * `npm run refresh-reference-data`: rebuilds config/reference/*.json, the
 * lists of what exists (EC2 instance types, RDS classes, availability zones,
 * Azure VM sizes and regions) that the config checks values against, from the
 * clouds' and Karpenter's published sources. Synth never fetches anything:
 * run this on a machine with network access and commit the result.
 *
 *   npm run refresh-reference-data                 # fetch every source below
 *   npm run refresh-reference-data -- --from DIR   # read saved copies named as in SOURCES
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { encodeMembership, REFERENCE_DIR } from "../config/reference";
import {
  parseAwsAvailabilityZones,
  parseAzureKnownSkus,
  parseAzureRegions,
  parseAzureRegionSizes,
  parseKarpenterInstanceTypes,
  parseRdsPostgresClasses,
  POSTGRES_MAJORS,
  RDS_ADDITIONS,
  SOURCES,
} from "../tools/reference-data";

async function read(source: { file: string; url: string }, from: string | undefined): Promise<string> {
  if (from) return readFileSync(path.join(from, source.file), "utf8");
  const response = await fetch(source.url);
  if (!response.ok) throw new Error(`${source.url}: HTTP ${response.status}`);
  return response.text();
}

function write(name: string, data: object): void {
  writeFileSync(path.join(REFERENCE_DIR, name), `${JSON.stringify(data)}\n`);
  console.log(`wrote config/reference/${name}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const fromIndex = args.indexOf("--from");
  const from = fromIndex >= 0 ? args[fromIndex + 1] : undefined;
  const retrieved = new Date().toISOString().slice(0, 10);

  const ec2 = parseKarpenterInstanceTypes(await read(SOURCES.ec2, from));
  write("aws-instance-types.json", { source: SOURCES.ec2.url, retrieved, families: ec2 });

  write("aws-availability-zones.json", { source: SOURCES.zones.url, retrieved, zones: parseAwsAvailabilityZones(await read(SOURCES.zones, from)) });

  const rds = parseRdsPostgresClasses(await read(SOURCES.rds, from), POSTGRES_MAJORS);
  for (const addition of RDS_ADDITIONS) {
    for (const family of addition.families) {
      for (const size of Object.keys(ec2[family]?.sizes ?? {}).filter((size) => !size.startsWith("metal") && size !== "medium")) {
        rds.classes[`db.${family}.${size}`] = POSTGRES_MAJORS.filter((major) => major >= addition.fromMajor && major <= rds.newestMajor);
      }
    }
  }
  write("rds-postgres-classes.json", {
    source: SOURCES.rds.url,
    additions: RDS_ADDITIONS.map(({ families, source }) => `${families.map((family) => `db.${family}`).join(", ")}: ${source}`),
    retrieved,
    newestMajor: rds.newestMajor,
    classes: rds.classes,
  });

  const known = parseAzureKnownSkus(await read(SOURCES.azureSizes, from));
  const byRegion = parseAzureRegionSizes(await read(SOURCES.azurePrices, from));
  const sizes = [...new Set([...Object.keys(known), ...Object.values(byRegion).flat()])].sort();
  write("azure-vm-sizes.json", {
    source: [SOURCES.azureSizes.url, SOURCES.azurePrices.url],
    retrieved,
    sizes,
    regions: Object.fromEntries(Object.entries(byRegion).map(([region, offered]) => [region, encodeMembership(sizes, offered)])),
  });

  write("azure-regions.json", { source: SOURCES.azureRegions.url, retrieved, regions: parseAzureRegions(await read(SOURCES.azureRegions, from)) });
}

if (require.main === module) {
  main().catch((error) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
