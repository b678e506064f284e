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
import { CHARTS } from "../constructs/addons/charts";
import {
  parseAwsAvailabilityZones,
  parseAzureKnownSkus,
  parseAzureRegions,
  parseAzureRegionSizes,
  parseKarpenterInstanceTypes,
  parseRdsPostgresClasses,
} from "../tools/reference-data";

/** Karpenter's release whose instance-type data the EC2 list comes from: the chart the platform installs. */
export const KARPENTER_AWS_REF = `v${CHARTS.karpenter.version}`;
/** The commit of Karpenter's Azure provider read for VM sizes and their regions. */
const KARPENTER_AZURE_REF = "352646f599290c3a6d2f9710fb535a7b288f88ed";
/** The last commit of the RDS User Guide's public source (the repository was archived in June 2023). */
const RDS_GUIDE_REF = "2dd4d7846c98bd2cbf136228954fbf028f358854";

export const SOURCES = {
  ec2: {
    file: "karpenter-instance-types.md",
    url: `https://raw.githubusercontent.com/aws/karpenter-provider-aws/${KARPENTER_AWS_REF}/website/content/en/docs/reference/instance-types.md`,
  },
  zones: { file: "aws-availability-zones.md", url: "https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.md" },
  rds: {
    file: "rds-instance-classes.md",
    url: `https://raw.githubusercontent.com/awsdocs/amazon-rds-user-guide/${RDS_GUIDE_REF}/doc_source/Concepts.DBInstanceClass.md`,
  },
  azureSizes: {
    file: "azure-known-skus.yaml",
    url: `https://raw.githubusercontent.com/Azure/karpenter-provider-azure/${KARPENTER_AZURE_REF}/pkg/providers/instancetype/known_skus.yaml`,
  },
  azurePrices: {
    file: "azure-pricing.go",
    url: `https://raw.githubusercontent.com/Azure/karpenter-provider-azure/${KARPENTER_AZURE_REF}/pkg/providers/pricing/zz_generated.pricing.go`,
  },
  azureRegions: { file: "azure-regions-list.md", url: "https://raw.githubusercontent.com/MicrosoftDocs/reliability-docs/main/articles/reliability/regions-list.md" },
} as const;

/**
 * RDS classes launched after the User Guide's public source stopped, with
 * the announcement they come from. Each family runs every PostgreSQL major
 * from `fromMajor` on, in the sizes of its EC2 family.
 */
const RDS_ADDITIONS = [
  {
    families: ["m8g", "r8g"],
    fromMajor: 13,
    source: "AWS Database Blog, 'Leveling up Amazon RDS with AWS Graviton4: Benchmarks' (M8g and R8g for RDS for PostgreSQL, November 2024)",
  },
];

/** PostgreSQL majors the RDS table may name. */
const POSTGRES_MAJORS = Array.from({ length: 32 }, (_, i) => i + 9);

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
