import { ManagementLock } from "@cdktf/provider-azurerm/lib/management-lock";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { TerraformOutput, TerraformStack, type TerraformResource } from "cdktf";
import type { Construct } from "constructs";
import type { AzureConfig, EnvironmentConfig, PlatformConfig } from "../config";
import { PostgresBackup } from "../constructs/azure/backup";
import { BackupAlerts } from "../constructs/azure/backup-alerts";
import { FlexiblePostgres, POSTGRES_ADMIN_LOGIN } from "../constructs/azure/postgres";
import { ROLES } from "../constructs/azure/role-assignment";
import { setUpAzureStack } from "../constructs/azure/stack-setup";
import { ServiceAccountIdentity } from "../constructs/azure/workload-identity";
import { boundedName } from "../constructs/common/naming";
import { POSTGRES_PORT } from "../constructs/common/postgres";
import { IN_CLUSTER, type DatabaseEndpoint } from "../constructs/contract";
import type { AzurePlatformStack } from "./azure-platform-stack";

/** Name of the delete locks on production's server and backup instance. */
export const PRODUCTION_DATA_LOCK = "protect-production-data";

/**
 * A resource's address as a bare reference. cdktf renders a resource passed
 * to `replaceTriggeredBy` as `${type.name}`, which Terraform's JSON syntax
 * rejects there ("Expected the start of an expression").
 */
function address(resource: TerraformResource): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}

const LOCK_NOTES = "Production database and backups. Remove deliberately: see docs/azure.md, Delete locks.";

export interface AzureDataStackProps {
  readonly config: PlatformConfig;
  readonly azure: AzureConfig;
  readonly environment: EnvironmentConfig;
  readonly platform: AzurePlatformStack;
}

/**
 * One environment's stateful resources: its own PostgreSQL Flexible Server,
 * its backup vault and the identity its applications read the credentials
 * with, in a resource group and state of their own.
 */
export class AzureDataStack extends TerraformStack {
  readonly postgres: FlexiblePostgres;
  readonly backup: PostgresBackup;
  readonly endpoint: DatabaseEndpoint;
  /** Production's delete locks; none elsewhere. */
  readonly locks: ManagementLock[] = [];

  constructor(scope: Construct, id: string, props: AzureDataStackProps) {
    super(scope, id);
    const { config, azure, environment, platform } = props;
    setUpAzureStack(this, { config, azure, stackId: id, environment: environment.name });
    const production = environment.stage === "production";
    const location = azure.location;
    // Server names are at most 63 characters and globally unique.
    const name = boundedName(63, config.project, environment.name);

    const resourceGroup = new ResourceGroup(this, "resource-group", {
      name: `${name}-data`,
      location,
      lifecycle: { preventDestroy: production },
    });

    this.postgres = new FlexiblePostgres(this, "postgres", {
      name,
      location,
      resourceGroupName: resourceGroup.name,
      version: environment.database.engineVersion,
      skuName: environment.database.skuName,
      storageGb: environment.database.storageGb,
      databaseName: environment.database.name,
      delegatedSubnetId: platform.network.postgresSubnet.id,
      privateDnsZoneId: platform.network.postgresDnsZone.id,
      tenantId: platform.tenantId,
      backupRetentionDays: environment.database.backupRetentionDays,
      highAvailability: environment.database.highAvailability,
      geoRedundantBackup: production && azure.postgres.geoRedundantBackup,
      keyVaultId: platform.keyVault.id,
      adminPasswordVersion: azure.postgres.adminPasswordVersion,
      entraAdministrator: azure.postgres.entraAdministrator,
      protect: production,
    });

    this.backup = new PostgresBackup(this, "backup", {
      name,
      location,
      resourceGroupName: resourceGroup.name,
      resourceGroupId: resourceGroup.id,
      serverId: this.postgres.server.id,
      redundancy: azure.backup.redundancy,
      // An immutable vault cannot be emptied, so only production's is.
      immutability: production ? azure.backup.immutability : "Disabled",
      dailyRetentionDays: azure.backup.dailyRetentionDays,
      monthlyRetentionDays: azure.backup.monthlyRetentionDays,
      protect: production,
    });

    new BackupAlerts(this, "backup-alerts", {
      name,
      location,
      resourceGroupName: resourceGroup.name,
      vaultId: this.backup.vault.id,
      workspaceId: platform.monitoring.workspace.id,
      actionGroupId: platform.monitoring.actionGroup.id,
    });

    // The environment's application service account reads its own database password, nothing else.
    const app = new ServiceAccountIdentity(this, "app-identity", {
      name: `${name}-app`,
      location,
      resourceGroupName: resourceGroup.name,
      issuer: platform.aks.oidcIssuerUrl,
      namespace: environment.name,
      serviceAccount: IN_CLUSTER.applicationServiceAccount,
    });
    app.grant("read-database-password", ROLES.keyVaultSecretsUser, this.postgres.adminSecret.resourceVersionlessId);

    if (production) {
      // prevent_destroy binds only this Terraform state; the locks also stop
      // the portal, the CLI and any other tool. They sit on the server and on
      // the backup instance, not on the resource group: a group lock would
      // also refuse the routine deletions of a later apply (the old backup
      // policy after a retention change, a replaced Entra administrator), and
      // Terraform creates a lock again before it deletes a replaced object.
      // The group itself cannot be deleted while it holds a locked resource.
      this.locks = [
        new ManagementLock(this, "server-lock", {
          name: PRODUCTION_DATA_LOCK,
          scope: this.postgres.server.id,
          lockLevel: "CanNotDelete",
          notes: LOCK_NOTES,
          // The lock covers the server's children, so it is lifted before any
          // of them is deleted (destroy) and taken off and put back around a
          // replacement of those a config change replaces.
          dependsOn: [...this.postgres.serverChildren, this.backup.serverAccess],
          lifecycle: { replaceTriggeredBy: [...this.postgres.replaceableChildren, this.backup.serverAccess].map(address) },
        }),
        new ManagementLock(this, "backup-lock", {
          name: PRODUCTION_DATA_LOCK,
          scope: this.backup.instance.id,
          lockLevel: "CanNotDelete",
          notes: LOCK_NOTES,
          lifecycle: { preventDestroy: true },
        }),
      ];
    }

    this.endpoint = {
      host: this.postgres.fqdn,
      port: POSTGRES_PORT,
      database: environment.database.name,
      credentials: { remoteKey: this.postgres.adminSecret.name, username: POSTGRES_ADMIN_LOGIN },
      cidrs: [platform.network.postgresSubnetCidr],
      applicationIdentity: app.workloadIdentity,
      secretStore: {
        azurekv: {
          authType: "WorkloadIdentity",
          vaultUrl: platform.keyVault.uri,
          serviceAccountRef: { name: IN_CLUSTER.applicationServiceAccount },
        },
      },
    };

    new TerraformOutput(this, "database_fqdn", { value: this.postgres.fqdn });
    new TerraformOutput(this, "database_password_secret", { value: this.postgres.adminSecret.name });
    // Read by `npm run doctor`.
    new TerraformOutput(this, "database_server_id", { value: this.postgres.server.id });
    new TerraformOutput(this, "backup_instance_id", { value: this.backup.instance.id });
  }
}
