import { z } from "zod";
import { email, ipv4Cidr, kubernetesVersion } from "./common";

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
         * Encryption at host on every node pool: temporary disks, OS and data disk
         * caches and their flows to storage are encrypted on the VM host. The
         * subscription must have the `Microsoft.Compute/EncryptionAtHost` feature
         * registered (docs/security.md). @default true
         */
        encryptionAtHost: z.boolean().default(true),
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
        /**
         * Public ranges the vault's firewall admits besides the nodes subnet and
         * trusted Azure services: where Terraform runs, since it writes the
         * generated secrets. @default the cluster's authorizedIpRanges
         */
        allowedIpRanges: z.array(ipv4Cidr).min(1, { message: "at least one range, or leave the field out to use cluster.authorizedIpRanges" }).optional(),
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
