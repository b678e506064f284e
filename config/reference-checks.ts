import { DEFAULT_POSTGRES_VERSION } from "./environments";
import { millicores, bytes } from "./quantity";
import {
  azureRegionHasZones,
  azureRegionsWithZones,
  checkAvailabilityZone,
  checkAzureVmSize,
  checkEc2Category,
  checkEc2Family,
  checkEc2InstanceType,
  checkRdsClass,
  ec2Categories,
  ec2TypesMatching,
  type Verdict,
} from "./reference";

/** A finding of the reference checks: an error stops synth, a warning is printed after it. */
export interface ReferenceFinding {
  readonly path: (string | number)[];
  readonly value: unknown;
  readonly message: string;
  readonly severity: "error" | "warning";
}

/** What sizes a PostgreSQL server, an environment's own or a shared one. */
interface CheckedServer {
  readonly engineVersion?: string;
  readonly instanceClass?: string;
  readonly highAvailability?: boolean;
}

/** Every server of the config with where it is configured: the environments' own and the shared ones. */
function serversOf(config: Checked): [(string | number)[], CheckedServer][] {
  return [
    ...config.environments.flatMap((env, i): [(string | number)[], CheckedServer][] => (env.database.server === undefined ? [[["environments", i, "database"], env.database]] : [])),
    ...(config.databaseServers ?? []).map((server, i): [(string | number)[], CheckedServer] => [["databaseServers", i], server]),
  ];
}

/** The parts of a config (raw or resolved) these checks read. */
interface Checked {
  readonly environments: readonly { readonly database: CheckedServer & { readonly server?: string } }[];
  readonly databaseServers?: readonly CheckedServer[];
  readonly clouds: {
    readonly aws?: {
      readonly region: string;
      readonly availabilityZones: readonly string[];
      readonly cluster: {
        readonly systemNodeGroup: { readonly instanceTypes: readonly string[] };
        readonly nodePools: readonly NodePool[];
      };
    };
    readonly azure?: {
      readonly location: string;
      readonly cluster: { readonly systemPool: AzurePool; readonly userPool: AzurePool };
      readonly registry: { readonly zoneRedundancy: boolean };
      readonly backup: { readonly redundancy: string };
    };
  };
}
interface NodePool {
  readonly architectures: readonly string[];
  readonly instanceFamilies?: readonly string[];
  readonly instanceCategories?: readonly string[];
  readonly minInstanceGeneration?: number;
  readonly limits: { readonly cpu: string; readonly memory: string };
}
interface AzurePool {
  readonly vmSize: string;
  readonly zones: readonly string[];
}

/** Karpenter's default oldest generation when a pool names categories (config/aws.ts). */
const DEFAULT_MIN_GENERATION = 5;

/**
 * Every value of a config checked against what exists (config/reference):
 * instance types, families and categories, zones, RDS classes, VM sizes, and
 * the zone options of a region without zones. Pure: the same findings for
 * the same config, whether synth stops on them or prints them.
 */
export function referenceFindings(config: Checked): ReferenceFinding[] {
  const findings: ReferenceFinding[] = [];
  const add = (verdict: Verdict, path: (string | number)[], value: unknown) => {
    if (!verdict.ok) findings.push({ path, value, message: verdict.message, severity: verdict.severity });
  };
  const { aws, azure } = config.clouds;
  if (aws) {
    const at = (...rest: (string | number)[]) => ["clouds", "aws", ...rest];
    aws.availabilityZones.forEach((zone, i) => {
      if (zone.startsWith(aws.region)) add(checkAvailabilityZone(zone, aws.region), at("availabilityZones", i), zone);
    });
    aws.cluster.systemNodeGroup.instanceTypes.forEach((type, i) => add(checkEc2InstanceType(type), at("cluster", "systemNodeGroup", "instanceTypes", i), type));
    aws.cluster.nodePools.forEach((pool, i) => {
      const here = (...rest: (string | number)[]) => at("cluster", "nodePools", i, ...rest);
      pool.instanceFamilies?.forEach((family, j) => add(checkEc2Family(family), here("instanceFamilies", j), family));
      pool.instanceCategories?.forEach((category, j) => add(checkEc2Category(category), here("instanceCategories", j), category));
      const minGeneration = pool.instanceCategories ? (pool.minInstanceGeneration ?? DEFAULT_MIN_GENERATION) : undefined;
      if (pool.instanceCategories && pool.minInstanceGeneration !== undefined) {
        const newest = Math.max(...pool.instanceCategories.map((category) => ec2Categories().get(category) ?? 0));
        if (newest > 0 && pool.minInstanceGeneration > newest) {
          findings.push({
            path: here("minInstanceGeneration"),
            value: pool.minInstanceGeneration,
            message: `no ${pool.instanceCategories.join(", ")} type is of generation ${pool.minInstanceGeneration} or later (the newest listed is ${newest}): the pool could launch nothing`,
            severity: "error",
          });
        }
      }
      checkPoolLimits(pool, minGeneration, here, findings);
    });
    for (const [at, { instanceClass, engineVersion }] of serversOf(config)) {
      if (instanceClass) add(checkRdsClass(instanceClass, Number(engineVersion ?? DEFAULT_POSTGRES_VERSION)), [...at, "instanceClass"], instanceClass);
    }
  }
  if (azure) {
    const at = (...rest: (string | number)[]) => ["clouds", "azure", ...rest];
    const zonal = azureRegionHasZones(azure.location);
    const noZones = (what: string) =>
      `${azure.location} has no availability zones, so ${what}; choose a region with zones (${azureRegionsWithZones().slice(0, 6).join(", ")}, ...) or drop the option`;
    for (const pool of ["systemPool", "userPool"] as const) {
      add(checkAzureVmSize(azure.cluster[pool].vmSize, azure.location), at("cluster", pool, "vmSize"), azure.cluster[pool].vmSize);
      if (zonal === false && azure.cluster[pool].zones.length > 0) {
        findings.push({ path: at("cluster", pool, "zones"), value: azure.cluster[pool].zones, message: noZones("a pool cannot be spread over zones: set zones: []"), severity: "error" });
      }
    }
    if (zonal === false && azure.registry.zoneRedundancy) {
      findings.push({ path: at("registry", "zoneRedundancy"), value: true, message: noZones("the registry cannot be zone-redundant"), severity: "error" });
    }
    if (zonal === false && azure.backup.redundancy === "ZoneRedundant") {
      findings.push({ path: at("backup", "redundancy"), value: "ZoneRedundant", message: noZones("the backup vault cannot be zone-redundant: use LocallyRedundant or GeoRedundant"), severity: "error" });
    }
    for (const [at, server] of serversOf(config)) {
      if (zonal === false && server.highAvailability) {
        findings.push({ path: [...at, "highAvailability"], value: true, message: noZones("Flexible Server's zone-redundant standby cannot be placed"), severity: "error" });
      }
    }
  }
  return findings;
}

/**
 * Karpenter launches no node that would take a pool's total above its
 * limits: limits below the smallest type the pool admits mean no node ever.
 */
function checkPoolLimits(
  pool: NodePool,
  minGeneration: number | undefined,
  here: (...rest: (string | number)[]) => (string | number)[],
  findings: ReferenceFinding[],
): void {
  const types = ec2TypesMatching({ families: pool.instanceFamilies, categories: pool.instanceCategories, minGeneration, architectures: pool.architectures });
  if (types.length === 0) return;
  const smallestCpu = types.reduce((a, b) => (b.cpu < a.cpu ? b : a));
  const smallestMemory = types.reduce((a, b) => (b.memoryMib < a.memoryMib ? b : a));
  const cpu = millicores(pool.limits.cpu);
  if (cpu !== undefined && cpu > 0 && cpu < smallestCpu.cpu * 1000) {
    findings.push({
      path: here("limits", "cpu"),
      value: pool.limits.cpu,
      message: `is less than the smallest node the pool may launch (${smallestCpu.type}, ${smallestCpu.cpu} vCPU): the pool could never launch a node; raise it to at least ${smallestCpu.cpu}`,
      severity: "error",
    });
  }
  const memory = bytes(pool.limits.memory);
  if (memory !== undefined && memory > 0 && memory < smallestMemory.memoryMib * 2 ** 20) {
    findings.push({
      path: here("limits", "memory"),
      value: pool.limits.memory,
      message: `is less than the smallest node the pool may launch (${smallestMemory.type}, ${smallestMemory.memoryMib}Mi): the pool could never launch a node; raise it to at least ${smallestMemory.memoryMib}Mi`,
      severity: "error",
    });
  }
}
