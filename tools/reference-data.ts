/**
 * Parsers that turn the clouds' published lists into the reference data the
 * config checks values against (config/reference/*.json). Pure functions of
 * the source text, so a test can run them on a small sample; the script
 * `npm run refresh-reference-data` fetches the sources and writes the files.
 */

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
