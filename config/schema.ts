import { z } from "zod";
import { awsSchema } from "./aws";
import { azureSchema, flexibleServerSkusText, isFlexibleServerSku, VAULTED_BACKUP_MAX_STORAGE_GB } from "./azure";
import { overlaps, parseIpv4Network, contains } from "./cidr";
import { dnsLabel, email, STAGES, userTags, type Stage } from "./common";
import { applicationSchema, environmentSchema, gitopsSchema } from "./environments";
import { bytes, millicores } from "./quantity";

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, { message: "a DNS name such as example.com" });

const rawConfigSchema = z
  .object({
    /** Short name used in every resource name. */
    project: dnsLabel(20),
    tags: userTags,
    applications: z.array(applicationSchema).min(1, { message: "at least one application" }),
    gitops: gitopsSchema,
    domain: z
      .object({
        base: hostname,
        /** Serve production on the base domain instead of `production.<base>`. */
        productionOnBase: z.boolean().default(true),
      })
      .strict(),
    alerts: z.object({ emails: z.array(email).default([]) }).strict().default({ emails: [] }),
    environments: z.array(environmentSchema).min(1, { message: "at least one environment" }),
    clouds: z
      .object({ aws: awsSchema.optional(), azure: azureSchema.optional() })
      .strict()
      .refine((clouds) => clouds.aws !== undefined || clouds.azure !== undefined, {
        message: "at least one cloud: aws, azure or both",
      }),
  })
  .strict();

type RawConfig = z.infer<typeof rawConfigSchema>;
type Ctx = z.RefinementCtx;
type Path = (string | number)[];

function issue(ctx: Ctx, path: Path, input: unknown, message: string): void {
  ctx.addIssue({ code: "custom", path, input, message });
}

function isStage(name: string): name is Stage {
  return (STAGES as readonly string[]).includes(name);
}

function checkEnvironments(config: RawConfig, ctx: Ctx): void {
  const seen = new Map<string, number>();
  const applicationNames = config.applications.map((app) => app.name);
  config.environments.forEach((env, i) => {
    const at = (...rest: Path): Path => ["environments", i, ...rest];
    const previous = seen.get(env.name);
    if (previous !== undefined) {
      issue(ctx, at("name"), env.name, `duplicate environment name; environments[${previous}] is already named '${env.name}'`);
    }
    seen.set(env.name, i);
    const stage = env.stage ?? (isStage(env.name) ? env.name : undefined);
    if (stage === undefined) {
      issue(ctx, at("stage"), env.name, `unknown environment '${env.name}': set stage to one of ${STAGES.join(", ")}`);
    }
    for (const [j, app] of (env.applications ?? []).entries()) {
      if (!applicationNames.includes(app)) {
        issue(ctx, at("applications", j), app, `unknown application; configured applications are ${applicationNames.join(", ")}`);
      }
    }
    checkResources(env, at, ctx);
    const db = env.database;
    if (db.maxStorageGb !== undefined && db.maxStorageGb < db.storageGb) {
      issue(ctx, at("database", "maxStorageGb"), db.maxStorageGb, `must be at least storageGb (${db.storageGb})`);
    }
    if (stage === "production" && !db.highAvailability) {
      issue(ctx, at("database", "highAvailability"), false, "production requires a highly available database: set true");
    }
    if (stage === "production" && db.backupRetentionDays < 35) {
      issue(ctx, at("database", "backupRetentionDays"), db.backupRetentionDays, "production keeps 35 days of point-in-time recovery: set 35");
    }
  });
}

/** Pairs of quantities where the first must not exceed the second. */
function checkResources(env: RawConfig["environments"][number], at: (...rest: Path) => Path, ctx: Ctx): void {
  const { quota, limitRange } = env;
  const pairs: [Path, string, string, string, (q: string) => number | undefined][] = [
    [at("quota", "requestsCpu"), quota.requestsCpu, quota.limitsCpu, "quota.limitsCpu", millicores],
    [at("quota", "requestsMemory"), quota.requestsMemory, quota.limitsMemory, "quota.limitsMemory", bytes],
    [at("limitRange", "defaultRequestCpu"), limitRange.defaultRequestCpu, limitRange.defaultLimitCpu, "limitRange.defaultLimitCpu", millicores],
    [at("limitRange", "defaultRequestMemory"), limitRange.defaultRequestMemory, limitRange.defaultLimitMemory, "limitRange.defaultLimitMemory", bytes],
    [at("limitRange", "defaultLimitCpu"), limitRange.defaultLimitCpu, quota.limitsCpu, "quota.limitsCpu", millicores],
    [at("limitRange", "defaultLimitMemory"), limitRange.defaultLimitMemory, quota.limitsMemory, "quota.limitsMemory", bytes],
  ];
  for (const [path, value, ceiling, ceilingName, measure] of pairs) {
    const [a, b] = [measure(value), measure(ceiling)];
    if (a !== undefined && b !== undefined && a > b) issue(ctx, path, value, `must not exceed ${ceilingName} (${ceiling})`);
  }
}

function checkDomain(config: RawConfig, ctx: Ctx): void {
  if (!config.domain.productionOnBase) return;
  const production = config.environments
    .map((env, i) => ({ name: env.name, i, stage: env.stage ?? env.name }))
    .filter((env) => env.stage === "production");
  for (const extra of production.slice(1)) {
    issue(
      ctx,
      ["environments", extra.i, "name"],
      extra.name,
      `only one production environment can serve the base domain ${config.domain.base}; '${production[0].name}' already does. Set domain.productionOnBase to false`,
    );
  }
}

function checkAws(config: RawConfig, ctx: Ctx): void {
  const aws = config.clouds.aws;
  if (!aws) return;
  const at = (...rest: Path): Path => ["clouds", "aws", ...rest];
  const zones = new Set<string>();
  aws.availabilityZones.forEach((zone, i) => {
    if (!zone.startsWith(aws.region)) {
      issue(ctx, at("availabilityZones", i), zone, `zone is not in region ${aws.region}`);
    }
    if (zones.has(zone)) issue(ctx, at("availabilityZones", i), zone, "duplicate availability zone");
    zones.add(zone);
  });
  const vpc = parseIpv4Network(aws.network.vpcCidr);
  if (vpc && (vpc.prefixLength < 16 || vpc.prefixLength > 20)) {
    issue(ctx, at("network", "vpcCidr"), aws.network.vpcCidr, "prefix length must be between /16 and /20 (AWS allows /16 at most; subnets need /20 or larger)");
  }
  const services = parseIpv4Network(aws.cluster.serviceCidr);
  if (vpc && services && overlaps(vpc, services)) {
    issue(ctx, at("cluster", "serviceCidr"), aws.cluster.serviceCidr, `overlaps the VPC ${aws.network.vpcCidr}`);
  }
  if (services && (services.prefixLength < 12 || services.prefixLength > 24)) {
    issue(ctx, at("cluster", "serviceCidr"), aws.cluster.serviceCidr, "EKS accepts a service range between /12 and /24");
  }
  aws.cluster.publicAccessCidrs.forEach((cidr, i) => {
    if (parseIpv4Network(cidr)?.prefixLength === 0) {
      issue(ctx, at("cluster", "publicAccessCidrs", i), cidr, "the API endpoint is never open to the whole internet; list your networks or leave empty for private only");
    }
  });
  const groupNames = new Set<string>();
  aws.cluster.nodeGroups.forEach((group, i) => {
    if (groupNames.has(group.name)) issue(ctx, at("cluster", "nodeGroups", i, "name"), group.name, "duplicate node group name");
    groupNames.add(group.name);
    if (group.minSize > group.maxSize) {
      issue(ctx, at("cluster", "nodeGroups", i, "minSize"), group.minSize, `must not exceed maxSize (${group.maxSize})`);
    } else if (group.desiredSize < group.minSize || group.desiredSize > group.maxSize) {
      issue(ctx, at("cluster", "nodeGroups", i, "desiredSize"), group.desiredSize, `must be between minSize (${group.minSize}) and maxSize (${group.maxSize})`);
    }
  });
  const hasProduction = config.environments.some((env) => (env.stage ?? env.name) === "production");
  if (hasProduction && aws.cluster.nodeGroups.every((group) => group.minSize < 2)) {
    issue(ctx, at("cluster", "nodeGroups"), aws.cluster.nodeGroups.map((g) => g.minSize), "a cluster serving production needs a node group with minSize of at least 2");
  }
}

function checkAzure(config: RawConfig, ctx: Ctx): void {
  const azure = config.clouds.azure;
  if (!azure) return;
  const at = (...rest: Path): Path => ["clouds", "azure", ...rest];
  const vnet = parseIpv4Network(azure.network.vnetCidr);
  const subnets = {
    nodesSubnetCidr: parseIpv4Network(azure.network.nodesSubnetCidr),
    postgresSubnetCidr: parseIpv4Network(azure.network.postgresSubnetCidr),
  };
  for (const [field, subnet] of Object.entries(subnets)) {
    if (vnet && subnet && !contains(vnet, subnet)) {
      issue(ctx, at("network", field), subnet.cidr, `must lie inside the VNet ${vnet.cidr}`);
    }
  }
  if (subnets.nodesSubnetCidr && subnets.postgresSubnetCidr && overlaps(subnets.nodesSubnetCidr, subnets.postgresSubnetCidr)) {
    issue(ctx, at("network", "postgresSubnetCidr"), azure.network.postgresSubnetCidr, `overlaps nodesSubnetCidr ${azure.network.nodesSubnetCidr}`);
  }
  const services = parseIpv4Network(azure.cluster.serviceCidr);
  if (vnet && services && overlaps(vnet, services)) {
    issue(ctx, at("cluster", "serviceCidr"), azure.cluster.serviceCidr, `overlaps the VNet ${azure.network.vnetCidr}`);
  }
  const dnsIp = parseIpv4Network(`${azure.cluster.dnsServiceIp}/32`);
  if (services && dnsIp && !contains(services, dnsIp)) {
    issue(ctx, at("cluster", "dnsServiceIp"), azure.cluster.dnsServiceIp, `must lie inside serviceCidr ${azure.cluster.serviceCidr}`);
  }
  for (const pool of ["systemPool", "userPool"] as const) {
    const { minCount, maxCount } = azure.cluster[pool];
    if (minCount > maxCount) issue(ctx, at("cluster", pool, "minCount"), minCount, `must not exceed maxCount (${maxCount})`);
  }
  if (azure.cluster.systemPool.minCount < 1) {
    issue(ctx, at("cluster", "systemPool", "minCount"), azure.cluster.systemPool.minCount, "the system pool runs CoreDNS and the add-ons: at least 1");
  }
  const pods = parseIpv4Network(azure.cluster.podCidr);
  if (pods && vnet && overlaps(pods, vnet)) {
    issue(ctx, at("cluster", "podCidr"), azure.cluster.podCidr, `overlaps the VNet ${azure.network.vnetCidr}`);
  } else if (pods && services && overlaps(pods, services)) {
    issue(ctx, at("cluster", "podCidr"), azure.cluster.podCidr, `overlaps serviceCidr ${azure.cluster.serviceCidr}`);
  }
  // Azure reserves 5 addresses per subnet; node upgrades add maxSurge nodes to each pool.
  const nodes = subnets.nodesSubnetCidr;
  if (nodes) {
    const usable = nodes.last - nodes.first + 1 - 5;
    const surge = azure.cluster.upgradeSettings.maxSurge;
    const surgeOf = (maxCount: number) => (surge.endsWith("%") ? Math.ceil((maxCount * Number(surge.slice(0, -1))) / 100) : Number(surge));
    const needed = [azure.cluster.systemPool, azure.cluster.userPool].reduce((sum, pool) => sum + pool.maxCount + surgeOf(pool.maxCount), 0);
    if (usable < needed) {
      issue(ctx, at("network", "nodesSubnetCidr"), nodes.cidr, `has ${usable} usable addresses; the node pools grow to ${needed} nodes with upgrade surge`);
    }
  }
  if (subnets.postgresSubnetCidr && subnets.postgresSubnetCidr.prefixLength > 28) {
    issue(ctx, at("network", "postgresSubnetCidr"), azure.network.postgresSubnetCidr, "PostgreSQL Flexible Server needs a delegated subnet of /28 or larger");
  }
  const hasProduction = config.environments.some((env) => (env.stage ?? env.name) === "production");
  if (hasProduction && azure.cluster.skuTier === "Free") {
    issue(ctx, at("cluster", "skuTier"), azure.cluster.skuTier, "a cluster serving production needs the uptime SLA: Standard or Premium");
  }
  if (azure.backup.monthlyRetentionDays < azure.backup.dailyRetentionDays) {
    issue(ctx, at("backup", "monthlyRetentionDays"), azure.backup.monthlyRetentionDays, `must be at least dailyRetentionDays (${azure.backup.dailyRetentionDays}): the monthly tier outlives the daily one`);
  }
  azure.cluster.authorizedIpRanges.forEach((cidr, i) => {
    if (parseIpv4Network(cidr)?.prefixLength === 0) {
      issue(ctx, at("cluster", "authorizedIpRanges", i), cidr, "the API server is never open to the whole internet; list your networks");
    }
  });
  const registry = azure.registry;
  if (registry.sku !== "Premium") {
    const premiumOnly = {
      untaggedRetentionDays: registry.untaggedRetentionDays !== undefined,
      zoneRedundancy: registry.zoneRedundancy,
      privateAccess: registry.privateAccess,
    };
    for (const [field, set] of Object.entries(premiumOnly)) {
      if (set) issue(ctx, at("registry", field), registry[field as keyof typeof premiumOnly], `needs sku Premium (sku is ${registry.sku})`);
    }
  }
  config.environments.forEach((env, i) => {
    if (!isFlexibleServerSku(env.database.skuName)) {
      issue(ctx, ["environments", i, "database", "skuName"], env.database.skuName, `not a Flexible Server SKU the azurerm provider accepts; allowed: ${flexibleServerSkusText()}`);
    }
    // Rounded up to an offered size first, as the server is created.
    if (env.database.storageGb > VAULTED_BACKUP_MAX_STORAGE_GB) {
      issue(ctx, ["environments", i, "database", "storageGb"], env.database.storageGb, `Azure's vaulted backups cover servers up to ${VAULTED_BACKUP_MAX_STORAGE_GB} GiB; allowed: 20 to ${VAULTED_BACKUP_MAX_STORAGE_GB}`);
    }
    if (env.database.highAvailability && env.database.skuName.startsWith("B_")) {
      issue(ctx, ["environments", i, "database", "skuName"], env.database.skuName, "Burstable (B_) servers cannot be highly available on Azure; use a GP_ or MO_ SKU");
    }
    if (env.database.backupRetentionDays < 7) {
      issue(ctx, ["environments", i, "database", "backupRetentionDays"], env.database.backupRetentionDays, "Azure Flexible Server keeps 7 to 35 days of point-in-time restore");
    }
  });
}

function resolve(config: RawConfig) {
  const applicationNames = config.applications.map((app) => app.name);
  return {
    ...config,
    environments: config.environments.map((env) => ({
      ...env,
      stage: (env.stage ?? env.name) as Stage,
      applications: env.applications ?? applicationNames,
      gitops: {
        branch: env.gitops.branch ?? config.gitops.branch,
        path: env.gitops.path ?? `deploy/${env.name}`,
      },
      database: { ...env.database, maxStorageGb: env.database.maxStorageGb ?? env.database.storageGb * 2 },
    })),
  };
}

export const configSchema = rawConfigSchema
  .superRefine((config, ctx) => {
    checkEnvironments(config, ctx);
    checkDomain(config, ctx);
    checkAws(config, ctx);
    checkAzure(config, ctx);
  })
  .transform(resolve);

export type PlatformConfig = z.output<typeof configSchema>;
export type EnvironmentConfig = PlatformConfig["environments"][number];
