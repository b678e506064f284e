import { z } from "zod";
import { cidrSized, email, ipv4Cidr, kubernetesVersion, publicCidr, type Stage } from "./common";
import { AZURE_LOCATIONS } from "./regions";
import { didYouMean } from "./suggest";
import type { RawConfig } from "./schema";
import { checkPublicRanges, contains, overlaps, parseIpv4Network } from "./cidr";
import { STAGE_SETTINGS } from "./stages";

/**
 * The Flexible Server SKUs the azurerm provider accepts (its
 * `flexible_server_sku_name.go` at the pinned version): tier, VM family,
 * vCPU counts and suffix. A SKU outside it passes Azure's naming but fails
 * at plan, so the config rejects it first.
 */
export const FLEXIBLE_SERVER_SKUS: readonly { readonly prefix: string; readonly sizes: readonly number[]; readonly suffix: string }[] = [
  { prefix: "B_Standard_B", sizes: [1, 2, 4, 8, 12, 16, 20], suffix: "ms" },
  { prefix: "B_Standard_B", sizes: [2], suffix: "s" },
  { prefix: "GP_Standard_D", sizes: [2, 4, 8, 16, 32, 48, 64], suffix: "s_v3" },
  { prefix: "GP_Standard_D", sizes: [2, 4, 8, 16, 32, 48, 64], suffix: "ds_v4" },
  { prefix: "GP_Standard_D", sizes: [2, 4, 8, 16, 32, 48, 64, 96], suffix: "ds_v5" },
  { prefix: "GP_Standard_D", sizes: [2, 4, 8, 16, 32, 48, 64, 96], suffix: "ads_v5" },
  { prefix: "MO_Standard_E", sizes: [2, 4, 8, 16, 20, 32, 48, 64], suffix: "s_v3" },
  { prefix: "MO_Standard_E", sizes: [2, 4, 6, 8, 16, 20, 32, 48, 64], suffix: "ds_v4" },
  { prefix: "MO_Standard_E", sizes: [2, 4, 8, 16, 20, 32, 48, 64, 96], suffix: "ds_v5" },
  { prefix: "MO_Standard_E", sizes: [2, 4, 8, 16, 32, 48, 64, 96], suffix: "ads_v5" },
];

/** Whether the azurerm provider accepts a Flexible Server SKU name. */
export function isFlexibleServerSku(name: string): boolean {
  return FLEXIBLE_SERVER_SKUS.some(({ prefix, sizes, suffix }) => sizes.some((size) => name === `${prefix}${size}${suffix}`));
}

/** The accepted SKUs, compactly: `GP_Standard_D{2,4,8}ds_v5, ...`. */
export function flexibleServerSkusText(): string {
  return FLEXIBLE_SERVER_SKUS.map(({ prefix, sizes, suffix }) => (sizes.length === 1 ? `${prefix}${sizes[0]}${suffix}` : `${prefix}{${sizes.join(",")}}${suffix}`)).join(", ");
}

/** Azure Backup's vaulted backups of Flexible Server cover servers up to 1 TiB. */
export const VAULTED_BACKUP_MAX_STORAGE_GB = 1024;

/** An enum, so that editors offer the locations; the message suggests the closest one. */
const azureLocation = z.enum(AZURE_LOCATIONS, {
  error: (issue) => {
    // "West Europe" is the display name; the API wants westeurope.
    const hint = typeof issue.input === "string" ? didYouMean(issue.input.replace(/\s+/g, ""), AZURE_LOCATIONS) : "";
    return hint
      ? `not an Azure region name; ${hint} (every region the program knows is in config/regions.ts)`
      : `not an Azure region name; use one of ${AZURE_LOCATIONS.join(", ")}`;
  },
});

const nodePoolSchema = z
  .object({
    vmSize: z.string().regex(/^Standard_[A-Za-z0-9_]+$/, { message: "a VM size such as Standard_D4ds_v5" }).describe("VM size of the pool's nodes, e.g. Standard_D4ds_v5."),
    minCount: z.number().int().min(0).max(1000).describe("Fewest nodes (autoscaler)."),
    maxCount: z.number().int().min(1).max(1000).describe("Most nodes (autoscaler)."),
    osDiskSizeGb: z.number().int().min(30).max(2048).default(128).describe("OS disk size of each node in GB."),
    zones: z.array(z.enum(["1", "2", "3"])).default(["1", "2", "3"]).describe("Availability zones the pool spreads over."),
  })
  .strict();

export const azureSchema = z
  .object({
    location: azureLocation.describe("Azure region of the platform, by its API name, e.g. westeurope."),
    network: z
      .object({
        vnetCidr: ipv4Cidr.describe("VNet address range."),
        nodesSubnetCidr: ipv4Cidr.describe("Subnet of the nodes, inside the VNet; sized for every node plus upgrade surge."),
        postgresSubnetCidr: cidrSized(0, 28, "PostgreSQL Flexible Server needs a delegated subnet of /28 or larger").describe("Subnet delegated to PostgreSQL Flexible Server, inside the VNet, /28 or larger."),
      })
      .strict()
      .describe("The VNet."),
    cluster: z
      .object({
        version: kubernetesVersion.describe("Kubernetes minor version."),
        serviceCidr: ipv4Cidr.default("172.20.0.0/16").describe("Service IP range inside the cluster; must not overlap the VNet."),
        dnsServiceIp: z.ipv4().default("172.20.0.10").describe("Cluster DNS address, inside serviceCidr."),
        podCidr: ipv4Cidr.default("192.168.0.0/16").describe("Pod range of the Azure CNI overlay; pods take no VNet addresses."),
        authorizedIpRanges: z.array(publicCidr("the API server", "list your networks")).min(1, {
          message: "at least one range; the API server is never open to all",
        }).describe("Networks allowed to reach the API server; at least one, never 0.0.0.0/0."),
        adminGroupObjectIds: z.array(z.uuid()).default([]).describe("Entra ID group object ids granted cluster admin."),
        systemPool: nodePoolSchema.describe("Node pool for CoreDNS and the add-ons."),
        userPool: nodePoolSchema.describe("Node pool for the applications."),
        upgradeChannel: z.enum(["patch", "stable", "rapid", "node-image"]).default("patch").describe("AKS automatic upgrade channel."),
        maintenanceWindow: z
          .object({
            day: z.enum(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]).default("Sunday").describe("Day of the week."),
            startHour: z.number().int().min(0).max(23).default(2).describe("Start hour (UTC)."),
            durationHours: z.number().int().min(4).max(24).default(4).describe("Length in hours, at least 4."),
          })
          .strict()
          .default({ day: "Sunday", startHour: 2, durationHours: 4 })
          .describe("When automatic upgrades may run."),
        encryptionAtHost: z
          .boolean()
          .default(true)
          .describe("Encryption at host on every node pool (temporary disks, caches and their flows to storage); needs the Microsoft.Compute/EncryptionAtHost feature registered (docs/security.md)."),
        upgradeSettings: z
          .object({
            maxSurge: z
              .string()
              .regex(/^([1-9][0-9]*|([1-9][0-9]?|100)%)$/, { message: "a node count such as '1' or a percentage such as '33%'" })
              .default("33%")
              .describe("Extra nodes during an upgrade: a count or a percentage of the pool."),
            drainTimeoutMinutes: z.number().int().min(1).max(1440).default(30).describe("Minutes to wait for pod disruption budgets when draining a node (Azure's own default: 30)."),
            nodeSoakDurationMinutes: z.number().int().min(0).max(30).default(0).describe("Minutes to wait after draining a node before the next one."),
            undrainableNodeBehavior: z
              .enum(["Schedule", "Cordon"])
              .default("Schedule")
              .describe("A node whose pods cannot be drained in time: Schedule (Azure's default) keeps it schedulable, Cordon keeps it out of service."),
          })
          .strict()
          .default({ maxSurge: "33%", drainTimeoutMinutes: 30, nodeSoakDurationMinutes: 0, undrainableNodeBehavior: "Schedule" })
          .describe("How node upgrades roll through both pools; every field is sent explicitly, since a value set outside Terraform going back to empty replaces the cluster or pool."),
        skuTier: z.enum(["Free", "Standard", "Premium"]).optional().describe("Uptime SLA tier: Free, Standard or Premium. Default: Standard when any environment is production."),
      })
      .strict()
      .describe("The AKS cluster."),
    registry: z
      .object({
        name: z.string().regex(/^[a-zA-Z0-9]{5,50}$/, { message: "5-50 letters and digits (globally unique)" }).describe("Registry name, 5-50 letters and digits, globally unique."),
        sku: z.enum(["Basic", "Standard", "Premium"]).default("Standard").describe("ACR tier: Basic, Standard or Premium."),
        untaggedRetentionDays: z.number().int().min(0).max(365).optional().describe("Premium only: days untagged manifests are kept."),
        zoneRedundancy: z.boolean().default(false).describe("Premium only: replicate the registry across zones."),
        privateAccess: z.boolean().default(false).describe("Premium only: no public network access."),
      })
      .strict()
      .describe("The container registry (ACR)."),
    logStorage: z
      .object({
        accountName: z
          .string()
          .regex(/^[a-z0-9]{3,24}$/, { message: "3-24 lowercase letters and digits (globally unique)" })
          .optional()
          .describe("Name of the storage account holding the log store; globally unique. Default: the project name without -, then logs."),
      })
      .strict()
      .default({})
      .describe("The storage account holding the log store's chunks and index."),
    keyVault: z
      .object({
        name: z
          .string()
          .regex(/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/, { message: "3-24 letters, digits and '-', starting with a letter (globally unique)", abort: true })
          .regex(/^(?!.*--)/, { message: "no consecutive hyphens ('--'): Key Vault names refuse them" })
          .describe("Key Vault name, 3-24 characters, globally unique."),
        softDeleteRetentionDays: z.number().int().min(7).max(90).default(90).describe("Days a deleted secret can be recovered."),
        allowedIpRanges: z
          .array(publicCidr("the Key Vault firewall", "list your networks"))
          .min(1, { message: "at least one range, or leave the field out to use cluster.authorizedIpRanges" })
          .optional()
          .describe("Public ranges the vault's firewall admits besides the nodes subnet and trusted Azure services: where Terraform runs. Default: the cluster's authorizedIpRanges."),
      })
      .strict()
      .describe("The Key Vault holding database passwords."),
    backup: z
      .object({
        redundancy: z.enum(["LocallyRedundant", "ZoneRedundant", "GeoRedundant"]).default("GeoRedundant").describe("Storage redundancy of the backup vault."),
        dailyRetentionDays: z.number().int().min(7).max(3650).default(365).describe("Days daily backups are kept."),
        monthlyRetentionDays: z.number().int().min(30).max(3650).default(2555).describe("Days monthly backups are kept; at least dailyRetentionDays."),
        immutability: z.enum(["Disabled", "Unlocked", "Locked"]).default("Unlocked").describe("Unlocked can still be turned off; Locked never can, not even by the owner."),
      })
      .strict()
      .default({ redundancy: "GeoRedundant", dailyRetentionDays: 365, monthlyRetentionDays: 2555, immutability: "Unlocked" })
      .describe("Azure Backup of the databases."),
    postgres: z
      .object({
        entraAdministrator: z
          .object({
            objectId: z.uuid().describe("Object id of the group, user or service principal."),
            principalName: z.string().min(1).max(128).describe("Display name of the group or user, or the application's name."),
            principalType: z.enum(["Group", "User", "ServicePrincipal"]).default("Group").describe("Group, User or ServicePrincipal."),
          })
          .strict()
          .optional()
          .describe("The Microsoft Entra principal made administrator of every server. Default: the password administrator only."),
        adminPasswordVersion: z.number().int().min(1).default(1).describe("Bump to rotate every administrator password on the next apply."),
        geoRedundantBackup: z.boolean().default(true).describe("Production backups copied to the paired region; turn off in regions without a pair."),
      })
      .strict()
      .default({ adminPasswordVersion: 1, geoRedundantBackup: true })
      .describe("Settings of every PostgreSQL Flexible Server."),
    alertEmails: z.array(email).default([]).describe("Receivers of Azure Monitor alerts. Default: alerts.emails."),
    tenantId: z.uuid().optional().describe("Entra ID tenant. Default: the tenant of the deploying identity."),
    stateBackend: z
      .object({
        resourceGroupName: z.string().min(1).describe("Resource group of the storage account."),
        storageAccountName: z.string().regex(/^[a-z0-9]{3,24}$/, { message: "3-24 lowercase letters and digits" }).describe("Storage account name."),
        containerName: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/).describe("Blob container name."),
        keyPrefix: z.string().default("platform").describe("Prefix of each stack's state key: <keyPrefix>/<stack>.tfstate."),
        bootstrapStateInBackend: z
          .boolean()
          .optional()
          .describe("With ci: true once azure-bootstrap's own state is moved from its local file into this container (docs/bootstrap.md). Default: false."),
      })
      .strict()
      .optional()
      .describe("A storage account container for Terraform state; local state when absent."),
  })
  .strict();

export type AzureConfig = z.infer<typeof azureSchema>;

// The rules across the fields above, run after each field's own schema.

type Path = (string | number)[];
type Report = (path: Path, input: unknown, message: string) => void;

/**
 * Webhooks an Azure Container Registry may have, by tier:
 * https://learn.microsoft.com/en-us/azure/container-registry/container-registry-skus#service-tier-features-and-limits
 */
export const ACR_WEBHOOK_QUOTA = { Basic: 2, Standard: 10, Premium: 500 } as const;

const registryTiersFor = (webhooks: number): string =>
  (Object.keys(ACR_WEBHOOK_QUOTA) as (keyof typeof ACR_WEBHOOK_QUOTA)[]).filter((sku) => ACR_WEBHOOK_QUOTA[sku] >= webhooks).join(" or ");

/** The Azure cloud's rules across its fields, and what Azure limits elsewhere in the config (tags, database servers, webhooks). */
export function checkAzure(config: RawConfig, report: Report): void {
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
      report(at("network", field), subnet.cidr, `must lie inside the VNet ${vnet.cidr}`);
    }
  }
  if (subnets.nodesSubnetCidr && subnets.postgresSubnetCidr && overlaps(subnets.nodesSubnetCidr, subnets.postgresSubnetCidr)) {
    report(at("network", "postgresSubnetCidr"), azure.network.postgresSubnetCidr, `overlaps nodesSubnetCidr ${azure.network.nodesSubnetCidr}`);
  }
  const services = parseIpv4Network(azure.cluster.serviceCidr);
  if (vnet && services && overlaps(vnet, services)) {
    report(at("cluster", "serviceCidr"), azure.cluster.serviceCidr, `overlaps the VNet ${azure.network.vnetCidr}`);
  }
  const dnsIp = parseIpv4Network(`${azure.cluster.dnsServiceIp}/32`);
  if (services && dnsIp && !contains(services, dnsIp)) {
    report(at("cluster", "dnsServiceIp"), azure.cluster.dnsServiceIp, `must lie inside serviceCidr ${azure.cluster.serviceCidr}`);
  } else if (services && dnsIp && (dnsIp.first === services.first || dnsIp.first === services.first + 1 || dnsIp.first === services.last)) {
    // Kubernetes gives the first address of the range to the API server's service; the network and broadcast addresses are no hosts.
    report(at("cluster", "dnsServiceIp"), azure.cluster.dnsServiceIp, `is the network, first or last address of serviceCidr ${azure.cluster.serviceCidr}, which the cluster cannot give to DNS; use another, such as the .10`);
  }
  const azureTagText = /[<>%&\\?/]/;
  for (const key of Object.keys(config.tags)) {
    if (azureTagText.test(key)) report(["tags", key], key, "Azure tag names cannot contain < > % & \\ ? /");
  }
  for (const pool of ["systemPool", "userPool"] as const) {
    const { minCount, maxCount } = azure.cluster[pool];
    if (minCount > maxCount) report(at("cluster", pool, "minCount"), minCount, `must not exceed maxCount (${maxCount})`);
  }
  if (azure.cluster.systemPool.minCount < 1) {
    report(at("cluster", "systemPool", "minCount"), azure.cluster.systemPool.minCount, "the system pool runs CoreDNS and the add-ons: at least 1");
  }
  const pods = parseIpv4Network(azure.cluster.podCidr);
  if (pods && vnet && overlaps(pods, vnet)) {
    report(at("cluster", "podCidr"), azure.cluster.podCidr, `overlaps the VNet ${azure.network.vnetCidr}`);
  } else if (pods && services && overlaps(pods, services)) {
    report(at("cluster", "podCidr"), azure.cluster.podCidr, `overlaps serviceCidr ${azure.cluster.serviceCidr}`);
  }
  // Azure reserves 5 addresses per subnet; node upgrades add maxSurge nodes to each pool.
  const nodes = subnets.nodesSubnetCidr;
  if (nodes) {
    const usable = nodes.last - nodes.first + 1 - 5;
    const surge = azure.cluster.upgradeSettings.maxSurge;
    const surgeOf = (maxCount: number) => (surge.endsWith("%") ? Math.ceil((maxCount * Number(surge.slice(0, -1))) / 100) : Number(surge));
    const needed = [azure.cluster.systemPool, azure.cluster.userPool].reduce((sum, pool) => sum + pool.maxCount + surgeOf(pool.maxCount), 0);
    if (usable < needed) {
      report(at("network", "nodesSubnetCidr"), nodes.cidr, `has ${usable} usable addresses; the node pools grow to ${needed} nodes with upgrade surge`);
    }
  }
  // A name that is no stage without a stage is reported elsewhere.
  const needsSla = config.environments.some((env) => STAGE_SETTINGS[(env.stage ?? env.name) as Stage]?.clusterUptimeSla);
  // With clusters, the tier is each cluster's own (checkClusters).
  if (needsSla && azure.cluster.skuTier === "Free" && !config.clusters) {
    report(at("cluster", "skuTier"), azure.cluster.skuTier, "a cluster serving production needs the uptime SLA: Standard or Premium");
  }
  if (azure.backup.monthlyRetentionDays < azure.backup.dailyRetentionDays) {
    report(at("backup", "monthlyRetentionDays"), azure.backup.monthlyRetentionDays, `must be at least dailyRetentionDays (${azure.backup.dailyRetentionDays}): the monthly tier outlives the daily one`);
  }
  checkPublicRanges(azure.cluster.authorizedIpRanges, at("cluster", "authorizedIpRanges"), "the API server", report);
  if (azure.keyVault.allowedIpRanges) checkPublicRanges(azure.keyVault.allowedIpRanges, at("keyVault", "allowedIpRanges"), "the Key Vault firewall", report);
  const registry = azure.registry;
  if (registry.sku !== "Premium") {
    const premiumOnly = {
      untaggedRetentionDays: registry.untaggedRetentionDays !== undefined,
      zoneRedundancy: registry.zoneRedundancy,
      privateAccess: registry.privateAccess,
    };
    for (const [field, set] of Object.entries(premiumOnly)) {
      if (set) report(at("registry", field), registry[field as keyof typeof premiumOnly], `needs sku Premium (sku is ${registry.sku})`);
    }
  }
  // One registry webhook per environment, each to its own Receiver.
  const webhooks = config.gitops.receivers?.registry ? config.environments.length : 0;
  if (webhooks > ACR_WEBHOOK_QUOTA[registry.sku]) {
    report(at("registry", "sku"), registry.sku, `allows ${ACR_WEBHOOK_QUOTA[registry.sku]} webhooks; gitops.receivers.registry needs one per environment (${webhooks}): choose ${registryTiersFor(webhooks)} or turn the registry receiver off`);
  }
  // Every server: the environments' own and the shared ones.
  const servers: [Path, Partial<RawConfig["databaseServers"][number]>][] = [
    ...config.environments.flatMap((env, i): [Path, Partial<RawConfig["databaseServers"][number]>][] =>
      env.database.server === undefined ? [[["environments", i, "database"], env.database]] : [],
    ),
    ...config.databaseServers.map((server, i): [Path, Partial<RawConfig["databaseServers"][number]>] => [["databaseServers", i], server]),
  ];
  for (const [at, db] of servers) {
    if (db.skuName !== undefined && !isFlexibleServerSku(db.skuName)) {
      report([...at, "skuName"], db.skuName, `not a Flexible Server SKU the azurerm provider accepts; allowed: ${flexibleServerSkusText()}`);
    }
    // Rounded up to an offered size first, as the server is created.
    if (db.storageGb !== undefined && db.storageGb > VAULTED_BACKUP_MAX_STORAGE_GB) {
      report([...at, "storageGb"], db.storageGb, `Azure's vaulted backups cover servers up to ${VAULTED_BACKUP_MAX_STORAGE_GB} GiB; allowed: 20 to ${VAULTED_BACKUP_MAX_STORAGE_GB}`);
    }
    if (db.highAvailability && db.skuName?.startsWith("B_")) {
      report([...at, "skuName"], db.skuName, "Burstable (B_) servers cannot be highly available on Azure; use a GP_ or MO_ SKU");
    }
    if (db.backupRetentionDays !== undefined && db.backupRetentionDays < 7) {
      report([...at, "backupRetentionDays"], db.backupRetentionDays, "Azure Flexible Server keeps 7 to 35 days of point-in-time restore");
    }
  }
}
