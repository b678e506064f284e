import type { DataProtectionBackupVault } from "@cdktf/provider-azurerm/lib/data-protection-backup-vault";
import type { ManagementLock } from "@cdktf/provider-azurerm/lib/management-lock";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { DataAzurermClientConfig } from "@cdktf/provider-azurerm/lib/data-azurerm-client-config";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { ApplicationConfig, AzureConfig, EnvironmentConfig, PlatformConfig } from "../config";
import { ApplicationStorage, OPERATIONAL_BACKUP_DAYS, storageAccountName } from "../constructs/azure/application-storage";
import { backupVault, BlobBackups, type PostgresBackup } from "../constructs/azure/backup";
import { databaseServer, lockDatabaseServer } from "../constructs/azure/database-server";
import { POSTGRES_ADMIN_LOGIN, type FlexiblePostgres } from "../constructs/azure/postgres";
import { AzurePreviewDatabaseAccess } from "../constructs/azure/preview-database-access";
import { ROLES } from "../constructs/azure/role-assignment";
import { setUpAzureStack } from "../constructs/azure/stack-setup";
import { ServiceAccountIdentity } from "../constructs/azure/workload-identity";
import { boundedName, fittedName } from "../constructs/common/naming";
import { POSTGRES_PORT } from "../constructs/common/postgres";
import { applicationServiceAccount, IN_CLUSTER, type ApplicationEndpoint, type DatabaseCredentials, type DatabaseEndpoint, type PreviewDatabaseAccess } from "../constructs/contract";
import type { AzureServerTenant } from "./azure-database-server-stack";
import type { AzurePlatformStack } from "./azure-platform-stack";

export { PRODUCTION_DATA_LOCK } from "../constructs/azure/database-server";

export interface AzureDataStackProps {
  readonly config: PlatformConfig;
  readonly azure: AzureConfig;
  readonly environment: EnvironmentConfig;
  readonly platform: AzurePlatformStack;
  /**
   * The environment's place on its shared server, when `database.server` names one.
   * @default - a server of the environment's own, in this stack
   */
  readonly sharedServer?: AzureServerTenant;
}

/**
 * One environment's stateful resources, in a resource group and state of
 * their own: its PostgreSQL Flexible Server (unless it lives on a shared
 * server) with its backup vault, its applications' storage, and the
 * identities its applications reach them with.
 */
export class AzureDataStack extends TerraformStack {
  /** The environment's own server; undefined when it lives on a shared one. */
  readonly postgres?: FlexiblePostgres;
  readonly backup?: PostgresBackup;
  readonly endpoint: DatabaseEndpoint;
  readonly storage: Record<string, ApplicationStorage> = {};
  readonly applications: Record<string, ApplicationEndpoint> = {};
  /** Production's delete locks; none elsewhere. */
  readonly locks: ManagementLock[] = [];
  private readonly resourceGroup: ResourceGroup;
  private readonly name: string;
  private readonly azure: AzureConfig;
  private blobBackups?: BlobBackups;

  constructor(scope: Construct, id: string, props: AzureDataStackProps) {
    super(scope, id);
    const { config, azure, environment, platform, sharedServer } = props;
    setUpAzureStack(this, { config, azure, stackId: id, environment: environment.name });
    const production = environment.stage === "production";
    const location = azure.location;
    this.azure = azure;
    // Server names are at most 63 characters and globally unique.
    const name = (this.name = boundedName(63, config.project, environment.name));

    this.resourceGroup = new ResourceGroup(this, "resource-group", {
      name: `${name}-data`,
      location,
      lifecycle: { preventDestroy: production },
    });

    // The environment's application service account reads its own database password, nothing else.
    const app = new ServiceAccountIdentity(this, "app-identity", {
      name: `${name}-app`,
      location,
      resourceGroupName: this.resourceGroup.name,
      issuer: platform.aks.oidcIssuerUrl,
      namespace: environment.name,
      serviceAccount: IN_CLUSTER.applicationServiceAccount,
    });

    let host: string;
    let credentials: DatabaseCredentials;
    let previews: PreviewDatabaseAccess | undefined;
    if (sharedServer) {
      ({ host, credentials, previews } = sharedServer);
      app.grant("read-database-password", ROLES.keyVaultSecretsUser, sharedServer.secretId);
    } else {
      const server = databaseServer(this, { name, azure, server: environment.database, resourceGroup: this.resourceGroup, platform: platform.databasePlatform, protect: production, databaseName: environment.database.name });
      this.postgres = server.postgres;
      this.backup = server.backup;
      app.grant("read-database-password", ROLES.keyVaultSecretsUser, this.postgres.adminSecret.resourceVersionlessId);
      if (production) this.locks.push(...lockDatabaseServer(this, this.postgres, this.backup));
      host = this.postgres.fqdn;
      credentials = { remoteKey: this.postgres.adminSecret.name, username: POSTGRES_ADMIN_LOGIN };
      // Pull-request previews borrowing this environment create their databases on its server.
      if (config.previews?.environment === environment.name) {
        previews = new AzurePreviewDatabaseAccess(this, "previews", {
          name,
          location,
          resourceGroupName: this.resourceGroup.name,
          keyVault: platform.keyVault,
          oidcIssuerUrl: platform.aks.oidcIssuerUrl,
          admin: credentials,
          adminSecretId: this.postgres.adminSecret.resourceVersionlessId,
        }).access;
      }
    }

    const applications = config.applications.filter((application) => environment.applications.includes(application.name));
    if (applications.some((application) => application.objectStorage)) {
      const subscriptionId = new DataAzurermClientConfig(this, "client", {}).subscriptionId;
      for (const application of applications) {
        this.applications[application.name] = this.applicationResources(config.project, environment, application, platform, subscriptionId);
      }
    } else {
      for (const application of applications) this.applications[application.name] = { identity: { serviceAccountAnnotations: {}, podLabels: {} } };
    }

    this.endpoint = {
      host,
      port: POSTGRES_PORT,
      database: environment.database.name,
      credentials,
      cidrs: [platform.network.postgresSubnetCidr],
      applicationIdentity: app.workloadIdentity,
      secretStore: {
        azurekv: {
          authType: "WorkloadIdentity",
          vaultUrl: platform.keyVault.uri,
          serviceAccountRef: { name: IN_CLUSTER.applicationServiceAccount },
        },
      },
      setup: sharedServer?.setup,
      previews,
    };

    if (this.postgres) {
      new TerraformOutput(this, "database_fqdn", { value: this.postgres.fqdn });
      new TerraformOutput(this, "database_password_secret", { value: this.postgres.adminSecret.name });
      // Read by `npm run doctor`.
      new TerraformOutput(this, "database_server_id", { value: this.postgres.server.id });
    }
    if (this.backup) new TerraformOutput(this, "backup_instance_id", { value: this.backup.instance.id });
    for (const [application, storage] of Object.entries(this.storage)) {
      new TerraformOutput(this, `storage_account_${application.replace(/-/g, "_")}`, { value: storage.account.name, description: `Object storage of ${application}` });
    }
  }

  /**
   * An application's own identity, for its service account in this
   * environment only, and its container when it asked for one. Keyed by the
   * application's name, so adding or removing one leaves the others.
   */
  private applicationResources(project: string, environment: EnvironmentConfig, application: ApplicationConfig, platform: AzurePlatformStack, subscriptionId: string): ApplicationEndpoint {
    const storage = application.objectStorage;
    if (!storage) return { identity: { serviceAccountAnnotations: {}, podLabels: {} } };
    const production = environment.stage === "production";
    const identity = new ServiceAccountIdentity(this, `app-${application.name}-identity`, {
      name: fittedName(128, this.name, applicationServiceAccount(application.name)),
      location: this.resourceGroup.location,
      resourceGroupName: this.resourceGroup.name,
      issuer: platform.aks.oidcIssuerUrl,
      namespace: environment.name,
      serviceAccount: applicationServiceAccount(application.name),
    });
    // Backups are a production matter: develop and staging objects are rebuilt, not restored.
    const backedUp = production && storage.backup;
    const container = new ApplicationStorage(this, `objects-${application.name}`, {
      accountName: storageAccountName(subscriptionId, project, environment.name, application.name),
      location: this.resourceGroup.location,
      resourceGroupName: this.resourceGroup.name,
      application: application.name,
      settings: storage,
      nodesSubnetId: platform.network.nodesSubnet.id,
      identity,
      actionGroupId: platform.monitoring.actionGroup.id,
      alertPrefix: `${this.name}-${application.name}-objects`,
      protect: production,
      operationalBackup: backedUp,
    });
    this.storage[application.name] = container;
    const backup = backedUp ? this.objectBackups().add(application.name, container.account.id, OPERATIONAL_BACKUP_DAYS) : undefined;
    if (production) this.locks.push(container.lock(backup ? [backup.access] : []));
    return { identity: identity.workloadIdentity, objectStorage: container.endpoint() };
  }

  /** Operational backups of the applications' storage (production only), in the own server's vault or one of their own. */
  private objectBackups(): BlobBackups {
    if (this.blobBackups) return this.blobBackups;
    const vault: DataProtectionBackupVault =
      this.backup?.vault ??
      backupVault(this, "objects-backup-vault", {
        name: `${this.name}-objects`,
        location: this.resourceGroup.location,
        resourceGroupName: this.resourceGroup.name,
        redundancy: this.azure.backup.redundancy,
        // Operational backups stay in the storage account; the vault holds only their policy and instances.
        immutability: "Disabled",
        protect: true,
      });
    return (this.blobBackups = new BlobBackups(this, "objects-backup", { name: this.name, location: this.resourceGroup.location, vault, protect: true }));
  }
}
