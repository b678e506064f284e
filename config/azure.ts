import { z } from "zod";
import { email, ipv4Cidr, kubernetesVersion } from "./common";

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

const azureLocation = z.string().regex(/^[a-z]+[a-z0-9]*$/, {
  message: "an Azure region name such as westeurope (lowercase, no spaces)",
});

const nodePoolSchema = z
  .object({
    vmSize: z.string().regex(/^Standard_[A-Za-z0-9_]+$/, { message: "a VM size such as Standard_D4ds_v5" }),
    minCount: z.number().int().min(0).max(1000),
    maxCount: z.number().int().min(1).max(1000),
    osDiskSizeGb: z.number().int().min(30).max(2048).default(128),
    zones: z.array(z.enum(["1", "2", "3"])).default(["1", "2", "3"]),
  })
  .strict();

export const azureSchema = z
  .object({
    location: azureLocation,
    network: z
      .object({
        vnetCidr: ipv4Cidr,
        nodesSubnetCidr: ipv4Cidr,
        postgresSubnetCidr: ipv4Cidr,
      })
      .strict(),
    cluster: z
      .object({
        version: kubernetesVersion,
        serviceCidr: ipv4Cidr.default("172.20.0.0/16"),
        dnsServiceIp: z.ipv4().default("172.20.0.10"),
        /** Pod range of the Azure CNI overlay; pods take no VNet addresses. */
        podCidr: ipv4Cidr.default("192.168.0.0/16"),
        /** CIDRs allowed to reach the API server. */
        authorizedIpRanges: z.array(ipv4Cidr).min(1, {
          message: "at least one range; the API server is never open to all",
        }),
        /** Entra ID group object ids granted cluster admin. */
        adminGroupObjectIds: z.array(z.uuid()).default([]),
        systemPool: nodePoolSchema,
        userPool: nodePoolSchema,
        upgradeChannel: z.enum(["patch", "stable", "rapid", "node-image"]).default("patch"),
        maintenanceWindow: z
          .object({
            day: z.enum(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]).default("Sunday"),
            startHour: z.number().int().min(0).max(23).default(2),
            durationHours: z.number().int().min(4).max(24).default(4),
          })
          .strict()
          .default({ day: "Sunday", startHour: 2, durationHours: 4 }),
        /**
         * How node upgrades roll through both pools. Every field is sent
         * explicitly: the provider sends 0 or "" for an omitted one, and a
         * value set outside Terraform then going back to 0 or "" replaces the
         * cluster or the pool.
         */
        upgradeSettings: z
          .object({
            /** Extra nodes during an upgrade: a count or a percentage of the pool. */
            maxSurge: z.string().regex(/^([1-9][0-9]*|([1-9][0-9]?|100)%)$/, { message: "a node count such as '1' or a percentage such as '33%'" }).default("33%"),
            /** Minutes to wait for pod disruption budgets when draining a node (Azure's own default: 30). */
            drainTimeoutMinutes: z.number().int().min(1).max(1440).default(30),
            /** Minutes to wait after draining a node before the next one. */
            nodeSoakDurationMinutes: z.number().int().min(0).max(30).default(0),
            /** What to do with a node whose pods cannot be drained in time: Schedule (Azure's default) keeps it schedulable, Cordon keeps it out of service. */
            undrainableNodeBehavior: z.enum(["Schedule", "Cordon"]).default("Schedule"),
          })
          .strict()
          .default({ maxSurge: "33%", drainTimeoutMinutes: 30, nodeSoakDurationMinutes: 0, undrainableNodeBehavior: "Schedule" }),
        /** Uptime SLA tier. @default Standard when any environment is production */
        skuTier: z.enum(["Free", "Standard", "Premium"]).optional(),
      })
      .strict(),
    registry: z
      .object({
        name: z.string().regex(/^[a-zA-Z0-9]{5,50}$/, { message: "5-50 letters and digits (globally unique)" }),
        sku: z.enum(["Basic", "Standard", "Premium"]).default("Standard"),
        /** Premium only: days untagged manifests are kept. */
        untaggedRetentionDays: z.number().int().min(0).max(365).optional(),
        /** Premium only. */
        zoneRedundancy: z.boolean().default(false),
        /** Premium only: no public network access. */
        privateAccess: z.boolean().default(false),
      })
      .strict(),
    keyVault: z
      .object({
        name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/, {
          message: "3-24 letters, digits and '-', starting with a letter (globally unique)",
        }),
        softDeleteRetentionDays: z.number().int().min(7).max(90).default(90),
      })
      .strict(),
    backup: z
      .object({
        redundancy: z.enum(["LocallyRedundant", "ZoneRedundant", "GeoRedundant"]).default("GeoRedundant"),
        dailyRetentionDays: z.number().int().min(7).max(3650).default(365),
        monthlyRetentionDays: z.number().int().min(30).max(3650).default(2555),
        /** Unlocked can still be turned off; Locked never can, not even by the owner. */
        immutability: z.enum(["Disabled", "Unlocked", "Locked"]).default("Unlocked"),
      })
      .strict()
      .default({ redundancy: "GeoRedundant", dailyRetentionDays: 365, monthlyRetentionDays: 2555, immutability: "Unlocked" }),
    postgres: z
      .object({
        /** The Microsoft Entra principal made administrator of every server. @default none: the password administrator only */
        entraAdministrator: z
          .object({
            objectId: z.uuid(),
            /** Display name of the group or user, or the application's name. */
            principalName: z.string().min(1).max(128),
            principalType: z.enum(["Group", "User", "ServicePrincipal"]).default("Group"),
          })
          .strict()
          .optional(),
        /** Bump to rotate every administrator password on the next apply. */
        adminPasswordVersion: z.number().int().min(1).default(1),
        /** Production backups copied to the paired region; turn off in regions without a pair. */
        geoRedundantBackup: z.boolean().default(true),
      })
      .strict()
      .default({ adminPasswordVersion: 1, geoRedundantBackup: true }),
    alertEmails: z.array(email).default([]),
    tenantId: z.uuid().optional(),
    stateBackend: z
      .object({
        resourceGroupName: z.string().min(1),
        storageAccountName: z.string().regex(/^[a-z0-9]{3,24}$/, { message: "3-24 lowercase letters and digits" }),
        containerName: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/),
        keyPrefix: z.string().default("platform"),
      })
      .strict()
      .optional(),
  })
  .strict();

export type AzureConfig = z.infer<typeof azureSchema>;
