import { ManagementLock } from "@cdktf/provider-azurerm/lib/management-lock";
import type { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import type { TerraformResource } from "cdktf";
import type { Construct } from "constructs";
import type { AzureConfig, ServerSettings } from "../../config";
import { PostgresBackup } from "./backup";
import { BackupAlerts } from "./backup-alerts";
import { FlexiblePostgres } from "./postgres";

/** Name of the delete locks on production's server and backup instance. */
export const PRODUCTION_DATA_LOCK = "protect-production-data";

const LOCK_NOTES = "Production database and backups. Remove deliberately: see docs/azure.md, Delete locks.";

/**
 * A resource's address as a bare reference. cdktf renders a resource passed
 * to `replaceTriggeredBy` as `${type.name}`, which Terraform's JSON syntax
 * rejects there ("Expected the start of an expression").
 */
function address(resource: TerraformResource): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}

/** What a server takes from the platform: its network, its vault and where its alerts go. */
export interface DatabasePlatform {
  readonly delegatedSubnetId: string;
  readonly privateDnsZoneId: string;
  readonly tenantId: string;
  /** The Key Vault the administrator password is generated into. */
  readonly keyVaultId: string;
  readonly workspaceId: string;
  readonly actionGroupId: string;
}

export interface DatabaseServerProps {
  /** Server name: at most 63 characters, globally unique. */
  readonly name: string;
  readonly azure: AzureConfig;
  readonly server: ServerSettings;
  readonly resourceGroup: ResourceGroup;
  readonly platform: DatabasePlatform;
  /** Production: geo-redundant backups where configured, immutable vault, `prevent_destroy`. */
  readonly protect: boolean;
  /** @default - none (a shared server) */
  readonly databaseName?: string;
}

/**
 * A Flexible Server with its vaulted backups and their alerts, added to
 * `scope` as `postgres`, `backup` and `backup-alerts`: the same for an
 * environment's own server and a shared one.
 */
export function databaseServer(scope: Construct, props: DatabaseServerProps): { postgres: FlexiblePostgres; backup: PostgresBackup } {
  const { azure, server, platform, resourceGroup, protect, name } = props;
  const location = azure.location;
  const postgres = new FlexiblePostgres(scope, "postgres", {
    name,
    location,
    resourceGroupName: resourceGroup.name,
    version: server.engineVersion,
    skuName: server.skuName,
    storageGb: server.storageGb,
    databaseName: props.databaseName,
    delegatedSubnetId: platform.delegatedSubnetId,
    privateDnsZoneId: platform.privateDnsZoneId,
    tenantId: platform.tenantId,
    backupRetentionDays: server.backupRetentionDays,
    highAvailability: server.highAvailability,
    geoRedundantBackup: protect && azure.postgres.geoRedundantBackup,
    keyVaultId: platform.keyVaultId,
    adminPasswordVersion: azure.postgres.adminPasswordVersion,
    entraAdministrator: azure.postgres.entraAdministrator,
    protect,
  });
  const backup = new PostgresBackup(scope, "backup", {
    name,
    location,
    resourceGroupName: resourceGroup.name,
    resourceGroupId: resourceGroup.id,
    serverId: postgres.server.id,
    redundancy: azure.backup.redundancy,
    // An immutable vault cannot be emptied, so only production's is.
    immutability: protect ? azure.backup.immutability : "Disabled",
    dailyRetentionDays: azure.backup.dailyRetentionDays,
    monthlyRetentionDays: azure.backup.monthlyRetentionDays,
    protect,
  });
  new BackupAlerts(scope, "backup-alerts", {
    name,
    location,
    resourceGroupName: resourceGroup.name,
    vaultId: backup.vault.id,
    workspaceId: platform.workspaceId,
    actionGroupId: platform.actionGroupId,
  });
  return { postgres, backup };
}

/**
 * Production's delete locks, added to `scope` as `server-lock` and
 * `backup-lock`. prevent_destroy binds only this Terraform state; the locks
 * also stop the portal, the CLI and any other tool. They sit on the server and
 * on the backup instance, not on the resource group: a group lock would also
 * refuse the routine deletions of a later apply (the old backup policy after a
 * retention change, a replaced Entra administrator), and Terraform creates a
 * lock again before it deletes a replaced object. The group itself cannot be
 * deleted while it holds a locked resource. Call it once every database is on
 * the server: the server's lock covers them.
 */
export function lockDatabaseServer(scope: Construct, postgres: FlexiblePostgres, backup: PostgresBackup): ManagementLock[] {
  return [
    new ManagementLock(scope, "server-lock", {
      name: PRODUCTION_DATA_LOCK,
      scope: postgres.server.id,
      lockLevel: "CanNotDelete",
      notes: LOCK_NOTES,
      // The lock covers the server's children, so it is lifted before any
      // of them is deleted (destroy) and taken off and put back around a
      // replacement of those a config change replaces.
      dependsOn: [...postgres.serverChildren, backup.serverAccess],
      lifecycle: { replaceTriggeredBy: [...postgres.replaceableChildren, backup.serverAccess].map(address) },
    }),
    new ManagementLock(scope, "backup-lock", {
      name: PRODUCTION_DATA_LOCK,
      scope: backup.instance.id,
      lockLevel: "CanNotDelete",
      notes: LOCK_NOTES,
      lifecycle: { preventDestroy: true },
    }),
  ];
}
