import { KeyVaultSecret } from "@cdktf/provider-azurerm/lib/key-vault-secret";
import type { ManagementLock } from "@cdktf/provider-azurerm/lib/management-lock";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AzureConfig, DatabaseServerConfig, EnvironmentConfig, PlatformConfig } from "../config";
import { databaseServerStackPart } from "../config/environments";
import { databaseServer, lockDatabaseServer } from "../constructs/azure/database-server";
import { ADMIN_PASSWORD_PREFIX, POSTGRES_ADMIN_LOGIN, type FlexiblePostgres } from "../constructs/azure/postgres";
import { AzurePreviewDatabaseAccess } from "../constructs/azure/preview-database-access";
import { ROLES } from "../constructs/azure/role-assignment";
import { setUpAzureStack } from "../constructs/azure/stack-setup";
import { ServiceAccountIdentity } from "../constructs/azure/workload-identity";
import { boundedName, fittedName } from "../constructs/common/naming";
import { databaseSetupServiceAccount, IN_CLUSTER, type DatabaseCredentials, type DatabaseSetupAccess, type PreviewDatabaseAccess } from "../constructs/contract";
import type { AzurePlatformStack } from "./azure-platform-stack";

export interface AzureDatabaseServerStackProps {
  readonly config: PlatformConfig;
  readonly azure: AzureConfig;
  readonly server: DatabaseServerConfig;
  readonly platform: AzurePlatformStack;
}

/** What one environment on the server gets: its credentials, and what its setup Job works with. */
export interface AzureServerTenant {
  readonly host: string;
  readonly credentials: DatabaseCredentials;
  /** The role's password secret, versionless: the scope of the environment's read grant. */
  readonly secretId: string;
  readonly setup: DatabaseSetupAccess;
  /** Present for the environment pull-request previews borrow: their databases go on this server. */
  readonly previews?: PreviewDatabaseAccess;
}

/**
 * A Flexible Server several environments share (`databaseServers[]`), in a
 * resource group and state of its own, as an environment's own server is:
 * the server, its vault, alerts and production locks. Per environment on it,
 * keyed by the environment's name: the generated password of its role and
 * the identity its setup Job reads the administrator's and that password
 * with. The Job creates the database and the role, as on AWS: a database made
 * through Resource Manager would belong to a role the administrator cannot
 * hand it from. Removing an environment from the server deletes its secret,
 * which the destroy guard refuses like a server.
 */
export class AzureDatabaseServerStack extends TerraformStack {
  readonly postgres: FlexiblePostgres;
  readonly tenants: Record<string, AzureServerTenant> = {};
  readonly locks: ManagementLock[] = [];

  constructor(scope: Construct, id: string, props: AzureDatabaseServerStackProps) {
    super(scope, id);
    const { config, azure, platform } = props;
    setUpAzureStack(this, { config, azure, stackId: id, environment: databaseServerStackPart(props.server.name) });
    const environments = config.environments.filter((env) => env.database.server === props.server.name);
    const production = (env: EnvironmentConfig) => env.stage === "production";
    const protect = environments.some(production);
    // Server names are at most 63 characters and globally unique.
    const name = boundedName(63, config.project, props.server.name);
    const location = azure.location;

    const resourceGroup = new ResourceGroup(this, "resource-group", { name: `${name}-data`, location, lifecycle: { preventDestroy: protect } });
    const server = databaseServer(this, { name, azure, server: props.server, resourceGroup, platform: platform.databasePlatform, protect });
    this.postgres = server.postgres;

    const admin: DatabaseCredentials = { remoteKey: this.postgres.adminSecret.name, username: POSTGRES_ADMIN_LOGIN };
    const borrowed = environments.find((environment) => environment.name === config.previews?.environment);
    const previews =
      borrowed &&
      new AzurePreviewDatabaseAccess(this, "previews", {
        name,
        location,
        resourceGroupName: resourceGroup.name,
        keyVault: platform.keyVault,
        oidcIssuerUrl: platform.aks.oidcIssuerUrl,
        admin,
        adminSecretId: this.postgres.adminSecret.resourceVersionlessId,
      }).access;
    for (const environment of environments) {
      const role = environment.database.name;
      // Generated straight into a write-only value: never in state, plan or cdktf.out.
      const secret = new KeyVaultSecret(this, `credentials-${environment.name}`, {
        name: `${name}-${environment.name}-password`,
        keyVaultId: platform.keyVault.id,
        contentType: `password of ${role} on ${name}`,
        valueWo: `${ADMIN_PASSWORD_PREFIX}\${uuid()}`,
        valueWoVersion: environment.database.passwordVersion,
        lifecycle: { preventDestroy: production(environment) },
      });
      const serviceAccount = databaseSetupServiceAccount(environment.name);
      const setup = new ServiceAccountIdentity(this, `setup-${environment.name}`, {
        name: fittedName(128, name, "setup", environment.name),
        location,
        resourceGroupName: resourceGroup.name,
        issuer: platform.aks.oidcIssuerUrl,
        namespace: IN_CLUSTER.databaseSetup.namespace,
        serviceAccount,
      });
      // The setup Job's store reads the administrator's password and this environment's, nothing else.
      setup.grant("read-admin-password", ROLES.keyVaultSecretsUser, this.postgres.adminSecret.resourceVersionlessId);
      setup.grant("read-role-password", ROLES.keyVaultSecretsUser, secret.resourceVersionlessId);
      this.tenants[environment.name] = {
        host: this.postgres.fqdn,
        credentials: { remoteKey: secret.name, username: role },
        secretId: secret.resourceVersionlessId,
        setup: {
          role,
          admin,
          revision: String(environment.database.passwordVersion),
          identity: setup.workloadIdentity,
          secretStore: { azurekv: { authType: "WorkloadIdentity", vaultUrl: platform.keyVault.uri, serviceAccountRef: { name: serviceAccount } } },
        },
        ...(environment === borrowed && { previews }),
      };
    }
    if (protect) this.locks.push(...lockDatabaseServer(this, this.postgres, server.backup));

    new TerraformOutput(this, "database_fqdn", { value: this.postgres.fqdn });
    new TerraformOutput(this, "database_password_secret", { value: this.postgres.adminSecret.name, description: "The administrator's password" });
  }
}
