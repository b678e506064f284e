/**
 * Parsers that turn the clouds' published lists into the reference data the
 * config checks values against (config/reference/*.json). Pure functions of
 * the source text, so a test can run them on a small sample; the script
 * `npm run refresh-reference-data` fetches the sources and writes the files.
 */
import { CHARTS } from "../constructs/addons/charts";

/** Karpenter's release whose instance-type data the EC2 list comes from: the chart the platform installs. */
export const KARPENTER_AWS_REF = `v${CHARTS.karpenter.version}`;
/** The commit of Karpenter's Azure provider read for VM sizes and their regions. */
const KARPENTER_AZURE_REF = "352646f599290c3a6d2f9710fb535a7b288f88ed";
/** The last commit of the RDS User Guide's public source (the repository was archived in June 2023). */
const RDS_GUIDE_REF = "2dd4d7846c98bd2cbf136228954fbf028f358854";

/** Where each list comes from, pinned; `file` names a saved copy (`--from DIR`). */
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
export const RDS_ADDITIONS = [
  {
    families: ["m8g", "r8g"],
    fromMajor: 13,
    source: "AWS Database Blog, 'Leveling up Amazon RDS with AWS Graviton4: Benchmarks' (M8g and R8g for RDS for PostgreSQL, November 2024)",
  },
];

/** PostgreSQL majors the RDS table may name. */
export const POSTGRES_MAJORS = Array.from({ length: 32 }, (_, i) => i + 9);

/** One EC2 family: what Karpenter labels its types with, and each size's vCPUs and memory (MiB). */
export interface Ec2Family {
  readonly arch: "amd64" | "arm64";
  readonly category: string;
  readonly generation: number;
  readonly sizes: Record<string, readonly [cpu: number, memoryMib: number]>;
}

/**
 * Karpenter's instance-type reference (website/content/en/docs/reference/instance-types.md):
 * one `### \`type\`` heading per instance type, followed by a table of its labels.
 */
export function parseKarpenterInstanceTypes(markdown: string): Record<string, Ec2Family> {
  const families: Record<string, { arch: "amd64" | "arm64"; category: string; generation: number; sizes: Record<string, [number, number]> }> = {};
  for (const section of markdown.split(/^### /m).slice(1)) {
    const label = (name: string) => new RegExp(`\\|${name.replace(/[./]/g, "\\$&")}\\|([^|]+)\\|`).exec(section)?.[1]?.trim();
    const type = label("node.kubernetes.io/instance-type");
    const family = label("karpenter.k8s.aws/instance-family");
    const size = label("karpenter.k8s.aws/instance-size");
    const category = label("karpenter.k8s.aws/instance-category");
    const generation = Number(label("karpenter.k8s.aws/instance-generation"));
    const cpu = Number(label("karpenter.k8s.aws/instance-cpu"));
    const memory = Number(label("karpenter.k8s.aws/instance-memory"));
    const arch = label("kubernetes.io/arch");
    if (!type || !family || !size || !category || !Number.isFinite(generation) || !(arch === "amd64" || arch === "arm64")) {
      throw new Error(`cannot read the labels of instance type section: ${section.slice(0, 60)}`);
    }
    const entry = (families[family] ??= { arch, category, generation, sizes: {} });
    entry.sizes[size] = [cpu, memory];
  }
  return families;
}

/** Zone letters of each region from the AZ-ID table of AWS's "AWS Availability Zones" page. */
export function parseAwsAvailabilityZones(markdown: string): Record<string, string[]> {
  const highest: Record<string, number> = {};
  for (const match of markdown.matchAll(/^\|\s*([a-z]+[0-9]+)-az([0-9]+)\s*\|\s*([a-z]+-[a-z]+-[0-9]+)/gm)) {
    const [, , number, region] = match;
    highest[region] = Math.max(highest[region] ?? 0, Number(number));
  }
  // In the regions that map zones per account, names run a, b, c ... up to
  // the number of zones; elsewhere a zone's letter is its AZ ID's number
  // (cac1-az4 is ca-central-1d). Letters up to the highest AZ ID cover both.
  return Object.fromEntries(
    Object.entries(highest)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([region, count]) => [region, Array.from({ length: count }, (_, i) => String.fromCharCode(97 + i))]),
  );
}

/** RDS instance classes and the PostgreSQL majors each supports. */
export interface RdsPostgresClasses {
  /** Class name (db.m7g.large) to the PostgreSQL majors it runs; empty when RDS offers it for other engines only. */
  readonly classes: Record<string, number[]>;
  /** The newest major the source table names. */
  readonly newestMajor: number;
}

/**
 * The "Supported DB engines for DB instance classes" table of the RDS User
 * Guide (Concepts.DBInstanceClass), one row per class with a cell per engine;
 * the PostgreSQL cell is the last. The cell reads "All PostgreSQL 15, 14 ...
 * versions; 13.4 and higher", "Lower than PostgreSQL 13", "No" or "Yes".
 */
export function parseRdsPostgresClasses(markdown: string, allMajors: readonly number[]): RdsPostgresClasses {
  const classes: Record<string, number[]> = {};
  let newestMajor = 0;
  for (const line of markdown.split("\n")) {
    const cells = line.replace(/\\/g, "").split("|").map((cell) => cell.trim());
    // | class | MariaDB | SQL Server | MySQL | Oracle | PostgreSQL |
    if (cells.length !== 8 || !/^db\.[a-z0-9-]+\.[a-z0-9]+\**$/.test(cells[1])) continue;
    const name = cells[1].replace(/\*+$/, "");
    const cell = cells[6];
    if (/^(no|yes)$/i.test(cell) === false && !/PostgreSQL/.test(cell)) continue;
    const majors = new Set<number>();
    if (/^yes$/i.test(cell)) allMajors.forEach((major) => majors.add(major));
    const lower = /Lower than PostgreSQL ([0-9]+)/.exec(cell);
    if (lower) allMajors.filter((major) => major < Number(lower[1])).forEach((major) => majors.add(major));
    for (const number of cell.matchAll(/\b([0-9]+)(?:\.[0-9]+)*/g)) {
      const major = Number(number[1]);
      if (major >= 9 && major <= 40 && !lower) majors.add(major);
      if (major >= 9 && major <= 40) newestMajor = Math.max(newestMajor, major);
    }
    classes[name] = [...majors].sort((a, b) => a - b);
  }
  return { classes, newestMajor };
}

/** Names and families of the VM sizes Karpenter's Azure provider knows (known_skus.yaml). */
export function parseAzureKnownSkus(yaml: string): Record<string, string> {
  const sizes: Record<string, string> = {};
  for (const match of yaml.matchAll(/^- name: (\S+)\n\s+family: (\S+)/gm)) sizes[match[1]] = match[2];
  return sizes;
}

/** VM sizes priced in each region (Karpenter's Azure provider, zz_generated.pricing.go): what each region offers. */
export function parseAzureRegionSizes(go: string): Record<string, string[]> {
  const regions: Record<string, string[]> = {};
  for (const block of go.split(/initialOnDemandPrices\["/).slice(1)) {
    const region = block.slice(0, block.indexOf('"'));
    regions[region] = [...block.matchAll(/"(Standard_[A-Za-z0-9_]+)":/g)].map((match) => match[1]).sort();
  }
  return regions;
}

/** Each Azure region's availability-zone support and pair, from Microsoft's "Azure regions list". */
export function parseAzureRegions(markdown: string): Record<string, { zones: boolean; pair: string | null }> {
  const rows = markdown.split("\n").filter((line) => line.startsWith("|")).map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
  const header = rows.findIndex((cells) => cells.includes("Programmatic name"));
  const byDisplayName = new Map<string, string>();
  const parsed: [string, boolean, string][] = [];
  for (const cells of rows.slice(header + 1)) {
    if (cells.length < 6 || !/^[a-z0-9]+$/.test(cells[5])) continue;
    const display = cells[0].replace(/:::image[^:]*:::/g, "").trim();
    byDisplayName.set(display, cells[5]);
    parsed.push([cells[5], /yes|icon-checkmark/i.test(cells[1]), cells[2].replace(/:::image[^:]*:::/g, "").trim()]);
  }
  return Object.fromEntries(
    parsed.sort(([a], [b]) => a.localeCompare(b)).map(([name, zones, pair]) => [name, { zones, pair: byDisplayName.get(pair) ?? null }]),
  );
}
