import { describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG_PATH, loadConfig } from "../config";
import { flexibleServerSkusText, isFlexibleServerSku } from "../config/azure";
import { problemOf, type BadConfigCase } from "./support/config-problems";

describe("the default Azure configuration", () => {
  it("is valid and fills the defaults the stacks rely on", () => {
    const azure = loadConfig(EXAMPLE_CONFIG_PATH).clouds.azure!;
    expect(azure.cluster.podCidr).toBe("192.168.0.0/16");
    expect(azure.cluster.upgradeChannel).toBe("patch");
    expect(azure.postgres.adminPasswordVersion).toBe(1);
    expect(azure.backup.immutability).toBe("Unlocked");
    expect(azure.cluster.upgradeSettings).toEqual({ maxSurge: "33%", drainTimeoutMinutes: 30, nodeSoakDurationMinutes: 0, undrainableNodeBehavior: "Schedule" });
  });

  it("accepts every SKU the provider's own tests accept and the environments use", () => {
    for (const sku of ["GP_Standard_D64s_v3", "GP_Standard_D16ds_v4", "MO_Standard_E2s_v3", "B_Standard_B1ms", "MO_Standard_E16ds_v4", "B_Standard_B20ms", "B_Standard_B2s", "GP_Standard_D96ads_v5"]) {
      expect(isFlexibleServerSku(sku), sku).toBe(true);
    }
    for (const sku of ["GP_Standard_E64s_v3", "Standard", "", "B_Standard_E32s_v3", "MO_Standard_E16s", "MO_Standard_E64ds_v3", "B_Standard_B1", "MO_Standard_D2s_v3"]) {
      expect(isFlexibleServerSku(sku), sku).toBe(false);
    }
    expect(loadConfig().environments.map((env) => isFlexibleServerSku(env.database.skuName))).toEqual([true, true, true]);
  });

  it("never opens the AKS API server to the whole internet", () => {
    expect(loadConfig(EXAMPLE_CONFIG_PATH).clouds.azure!.cluster.authorizedIpRanges).not.toContain("0.0.0.0/0");
  });
});

describe("bad Azure configurations fail with the field, the value and what is allowed", () => {
  const cases: BadConfigCase[] = [
    {
      name: "a region written as a display name",
      change: (r) => (r.clouds.azure.location = "West Europe"),
      path: "clouds.azure.location",
      value: "West Europe",
      message: 'not an Azure region name; did you mean "westeurope"? (every region the program knows is in config/regions.ts)',
    },
    {
      name: "a service range overlapping the VNet",
      change: (r) => {
        r.clouds.azure.cluster.serviceCidr = "10.50.128.0/20";
        r.clouds.azure.cluster.dnsServiceIp = "10.50.128.10";
      },
      path: "clouds.azure.cluster.serviceCidr",
      value: "10.50.128.0/20",
      message: "overlaps the VNet 10.50.0.0/16",
    },
    {
      name: "a pod overlay range overlapping the VNet",
      change: (r) => (r.clouds.azure.cluster.podCidr = "10.50.0.0/16"),
      path: "clouds.azure.cluster.podCidr",
      value: "10.50.0.0/16",
      message: "overlaps the VNet 10.50.0.0/16",
    },
    {
      name: "a pod overlay range overlapping the service range",
      change: (r) => (r.clouds.azure.cluster.podCidr = "172.20.0.0/14"),
      path: "clouds.azure.cluster.podCidr",
      value: "172.20.0.0/14",
      message: "overlaps serviceCidr 172.20.0.0/16",
    },
    {
      name: "a cluster DNS address outside the service range",
      change: (r) => (r.clouds.azure.cluster.dnsServiceIp = "172.21.0.10"),
      path: "clouds.azure.cluster.dnsServiceIp",
      value: "172.21.0.10",
      message: "must lie inside serviceCidr 172.20.0.0/16",
    },
    {
      name: "a subnet outside the VNet",
      change: (r) => (r.clouds.azure.network.postgresSubnetCidr = "10.60.0.0/24"),
      path: "clouds.azure.network.postgresSubnetCidr",
      value: "10.60.0.0/24",
      message: "must lie inside the VNet 10.50.0.0/16",
    },
    {
      name: "the Postgres subnet overlapping the nodes subnet",
      change: (r) => (r.clouds.azure.network.postgresSubnetCidr = "10.50.1.0/24"),
      path: "clouds.azure.network.postgresSubnetCidr",
      value: "10.50.1.0/24",
      message: "overlaps nodesSubnetCidr 10.50.0.0/18",
    },
    {
      name: "a Postgres subnet smaller than Flexible Server accepts",
      change: (r) => (r.clouds.azure.network.postgresSubnetCidr = "10.50.64.0/29"),
      path: "clouds.azure.network.postgresSubnetCidr",
      value: "10.50.64.0/29",
      message: "PostgreSQL Flexible Server needs a delegated subnet of /28 or larger",
    },
    {
      name: "a nodes subnet too small for the pools' maximum size",
      change: (r) => (r.clouds.azure.network.nodesSubnetCidr = "10.50.0.0/29"),
      path: "clouds.azure.network.nodesSubnetCidr",
      value: "10.50.0.0/29",
      message: "has 3 usable addresses; the node pools grow to 12 nodes with upgrade surge",
    },
    {
      name: "a node pool with min above max",
      change: (r) => (r.clouds.azure.cluster.userPool.minCount = 7),
      path: "clouds.azure.cluster.userPool.minCount",
      value: 7,
      message: "must not exceed maxCount (6)",
    },
    {
      name: "a system pool that may scale to nothing",
      change: (r) => (r.clouds.azure.cluster.systemPool.minCount = 0),
      path: "clouds.azure.cluster.systemPool.minCount",
      value: 0,
      message: "the system pool runs CoreDNS and the add-ons: at least 1",
    },
    {
      name: "an API server open to the internet",
      change: (r) => (r.clouds.azure.cluster.authorizedIpRanges = ["0.0.0.0/0"]),
      path: "clouds.azure.cluster.authorizedIpRanges[0]",
      value: "0.0.0.0/0",
      message: "the API server is never open to the whole internet; list your networks",
    },
    {
      name: "no authorized API server ranges",
      change: (r) => (r.clouds.azure.cluster.authorizedIpRanges = []),
      path: "clouds.azure.cluster.authorizedIpRanges",
      value: [],
      message: "at least one range; the API server is never open to all",
    },
    {
      name: "the Free tier for a cluster serving production",
      change: (r) => (r.clouds.azure.cluster.skuTier = "Free"),
      path: "clouds.azure.cluster.skuTier",
      value: "Free",
      message: "a cluster serving production needs the uptime SLA: Standard or Premium",
    },
    {
      name: "a Premium-only registry option on Basic",
      change: (r) => {
        r.clouds.azure.registry.sku = "Basic";
        r.clouds.azure.registry.untaggedRetentionDays = undefined;
        r.clouds.azure.registry.zoneRedundancy = true;
        // Basic's two webhooks are fewer than the three environments' registry Receivers.
        r.gitops.receivers = { git: true, registry: false };
      },
      path: "clouds.azure.registry.zoneRedundancy",
      value: true,
      message: "needs sku Premium (sku is Basic)",
    },
    {
      name: "untagged retention on Standard",
      change: (r) => {
        r.clouds.azure.registry.sku = "Standard";
        r.clouds.azure.registry.zoneRedundancy = false;
      },
      path: "clouds.azure.registry.untaggedRetentionDays",
      value: 7,
      message: "needs sku Premium (sku is Standard)",
    },
    {
      name: "a registry name with a dash",
      change: (r) => (r.clouds.azure.registry.name = "acme-platform"),
      path: "clouds.azure.registry.name",
      value: "acme-platform",
      message: "5-50 letters and digits (globally unique)",
    },
    {
      name: "a Key Vault name over 24 characters",
      change: (r) => (r.clouds.azure.keyVault.name = "acme-platform-key-vault-01"),
      path: "clouds.azure.keyVault.name",
      value: "acme-platform-key-vault-01",
      message: "3-24 letters, digits and '-', starting with a letter (globally unique)",
    },
    {
      name: "a state storage account name with capitals",
      change: (r) => (r.clouds.azure.stateBackend = { resourceGroupName: "tfstate", storageAccountName: "AcmeState", containerName: "tfstate" }),
      path: "clouds.azure.stateBackend.storageAccountName",
      value: "AcmeState",
      message: "3-24 lowercase letters and digits",
    },
    {
      name: "a highly available Burstable server",
      change: (r) => (r.environments[0].database.highAvailability = true),
      path: "environments[0].database.skuName",
      value: "B_Standard_B1ms",
      message: "Burstable (B_) servers cannot be highly available on Azure; use a GP_ or MO_ SKU",
    },
    {
      name: "a Flexible Server SKU the provider rejects at plan: GP_Standard_D2s_v5",
      change: (r) => (r.environments[1].database.skuName = "GP_Standard_D2s_v5"),
      path: "environments[1].database.skuName",
      value: "GP_Standard_D2s_v5",
      message: `not a Flexible Server SKU the azurerm provider accepts; allowed: ${flexibleServerSkusText()}`,
    },
    {
      name: "a Flexible Server SKU the provider rejects at plan: GP_Standard_D4ds_v6",
      change: (r) => (r.environments[1].database.skuName = "GP_Standard_D4ds_v6"),
      path: "environments[1].database.skuName",
      value: "GP_Standard_D4ds_v6",
      message: `not a Flexible Server SKU the azurerm provider accepts; allowed: ${flexibleServerSkusText()}`,
    },
    {
      name: "a Flexible Server SKU the provider rejects at plan: B_Standard_B1s",
      change: (r) => (r.environments[1].database.skuName = "B_Standard_B1s"),
      path: "environments[1].database.skuName",
      value: "B_Standard_B1s",
      message: `not a Flexible Server SKU the azurerm provider accepts; allowed: ${flexibleServerSkusText()}`,
    },
    {
      name: "a server too large for vaulted backups",
      change: (r) => (r.environments[2].database = { ...r.environments[2].database, storageGb: 1500, maxStorageGb: 3000 }),
      path: "environments[2].database.storageGb",
      value: 1500,
      message: "Azure's vaulted backups cover servers up to 1024 GiB; allowed: 20 to 1024",
    },
    {
      name: "an upgrade surge that is neither a count nor a percentage",
      change: (r) => (r.clouds.azure.cluster.upgradeSettings = { maxSurge: "a third" }),
      path: "clouds.azure.cluster.upgradeSettings.maxSurge",
      value: "a third",
      message: "a node count such as '1' or a percentage such as '33%'",
    },
    {
      name: "a drain timeout of zero, which the provider treats as unset",
      change: (r) => (r.clouds.azure.cluster.upgradeSettings = { drainTimeoutMinutes: 0 }),
      path: "clouds.azure.cluster.upgradeSettings.drainTimeoutMinutes",
      value: 0,
      message: "must be at least 1",
    },
    {
      name: "a nodes subnet too small for a fixed upgrade surge of 4 nodes per pool",
      change: (r) => {
        r.clouds.azure.network.nodesSubnetCidr = "10.50.0.0/28";
        r.clouds.azure.cluster.upgradeSettings = { maxSurge: "4" };
      },
      path: "clouds.azure.network.nodesSubnetCidr",
      value: "10.50.0.0/28",
      message: "has 11 usable addresses; the node pools grow to 17 nodes with upgrade surge",
    },
    {
      name: "point-in-time restore shorter than Flexible Server keeps",
      change: (r) => (r.environments[0].database.backupRetentionDays = 3),
      path: "environments[0].database.backupRetentionDays",
      value: 3,
      message: "Azure Flexible Server keeps 7 to 35 days of point-in-time restore",
    },
    {
      name: "vaulted monthly retention beyond ten years",
      change: (r) => (r.clouds.azure.backup.monthlyRetentionDays = 4000),
      path: "clouds.azure.backup.monthlyRetentionDays",
      value: 4000,
      message: "must be at most 3650",
    },
    {
      name: "monthly backups kept for less time than daily ones",
      change: (r) => (r.clouds.azure.backup.monthlyRetentionDays = 180),
      path: "clouds.azure.backup.monthlyRetentionDays",
      value: 180,
      message: "must be at least dailyRetentionDays (365): the monthly tier outlives the daily one",
    },
    {
      name: "an Entra administrator without an object id",
      change: (r) => (r.clouds.azure.postgres.entraAdministrator.objectId = "platform-dba"),
      path: "clouds.azure.postgres.entraAdministrator.objectId",
      value: "platform-dba",
      message: "must be an object id (a UUID) such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    },
  ];

  it.each(cases)("$name", ({ change, path: fieldPath, value, message }) => {
    expect(problemOf(change)).toEqual({ path: fieldPath, value, message });
  });
});
