import { KeyVaultSecret } from "@cdktf/provider-azurerm/lib/key-vault-secret";
import { PostgresqlFlexibleServer } from "@cdktf/provider-azurerm/lib/postgresql-flexible-server";
import { PostgresqlFlexibleServerActiveDirectoryAdministrator } from "@cdktf/provider-azurerm/lib/postgresql-flexible-server-active-directory-administrator";
import { PostgresqlFlexibleServerConfiguration } from "@cdktf/provider-azurerm/lib/postgresql-flexible-server-configuration";
import { PostgresqlFlexibleServerDatabase } from "@cdktf/provider-azurerm/lib/postgresql-flexible-server-database";
import { TerraformStack, type TerraformResource } from "cdktf";
import { Construct } from "constructs";

/** The password administrator's login; Azure reserves `admin`, `azure_superuser` and the like. */
export const POSTGRES_ADMIN_LOGIN = "platform_admin";

/** Makes every generated password meet Azure's character-class rule whatever the UUID's digits. */
export const ADMIN_PASSWORD_PREFIX = "Pg-";

/** Server parameters: TLS only, and every connection attempt in the server log. */
export const POSTGRES_SERVER_PARAMETERS: Record<string, string> = {
  require_secure_transport: "on",
  log_connections: "on",
  log_disconnections: "on",
};

/** Server arguments Terraform sets at creation and then leaves to Azure's autogrow. */
export const POSTGRES_CREATE_ONLY_STORAGE = ["storage_mb", "storage_tier"];

/** Storage sizes Flexible Server offers, in GiB. */
export const FLEXIBLE_SERVER_STORAGE_GB = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767];

/** The smallest offered size that holds the requested storage. */
export function flexibleServerStorageMb(storageGb: number): number {
  const size = FLEXIBLE_SERVER_STORAGE_GB.find((offered) => offered >= storageGb);
  if (size === undefined) throw new Error(`storage of ${storageGb} GiB exceeds the largest Flexible Server size (${FLEXIBLE_SERVER_STORAGE_GB.at(-1)} GiB)`);
  return size * 1024;
}

export interface FlexiblePostgresProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly version: string;
  readonly skuName: string;
  readonly storageGb: number;
  /**
   * The database created with the server.
   * @default - none: a shared server's databases are created by each environment's setup Job
   */
  readonly databaseName?: string;
  readonly delegatedSubnetId: string;
  readonly privateDnsZoneId: string;
  readonly tenantId: string;
  readonly backupRetentionDays: number;
  /** Zone-redundant standby in another availability zone. */
  readonly highAvailability: boolean;
  /** Backups copied to the paired region. */
  readonly geoRedundantBackup: boolean;
  /** The Key Vault the administrator password is generated into. */
  readonly keyVaultId: string;
  /** Changing it generates a new administrator password on the next apply. */
  readonly adminPasswordVersion: number;
  /**
   * The Microsoft Entra administrator.
   * @default - none; only the password administrator
   */
  readonly entraAdministrator?: { readonly objectId: string; readonly principalName: string; readonly principalType: string };
  /**
   * Production: `prevent_destroy` on the server, its database and its password.
   * @default false
   */
  readonly protect?: boolean;
}

/**
 * PostgreSQL Flexible Server inside the VNet, with no public endpoint, TLS
 * enforced, Microsoft Entra and password authentication.
 *
 * The administrator password never passes through Terraform state, plan or
 * cdktf.out: Terraform generates it straight into a write-only Key Vault
 * secret (`value_wo`), reads it back as an ephemeral value and hands it to the
 * server's write-only `administrator_password_wo`. Both carry the same
 * `adminPasswordVersion`, so bumping it writes a new password and sends it.
 *
 * The server receives the password only when its write-only version changes.
 * If the server's update fails after the secret was written, the provider has
 * already recorded the new version in state, so the next apply does not send
 * it again and the server keeps the old password while Key Vault holds the new
 * one. Deriving the server's version from the secret's own version would not
 * help: the failed update records that one too. The recovery is a further bump
 * of `adminPasswordVersion` (see docs/azure.md, Rotating the administrator password).
 *
 * Storage is set at creation only: Azure grows it (`auto_grow_enabled`), and
 * the provider replaces a server whose configured `storage_mb` is below the
 * size in state, so Terraform must never compare them again.
 */
export class FlexiblePostgres extends Construct {
  readonly server: PostgresqlFlexibleServer;
  /** The database created with the server, when `databaseName` is given. */
  readonly database?: PostgresqlFlexibleServerDatabase;
  readonly adminSecret: KeyVaultSecret;
  /** Present when an Entra administrator is configured. */
  readonly entraAdministrator?: PostgresqlFlexibleServerActiveDirectoryAdministrator;
  /** Resources under the server's scope, which a lock on the server also covers. */
  readonly serverChildren: TerraformResource[] = [];
  private readonly parameters: PostgresqlFlexibleServerConfiguration[];

  constructor(scope: Construct, id: string, props: FlexiblePostgresProps) {
    super(scope, id);
    const protect = props.protect ?? false;

    this.adminSecret = new KeyVaultSecret(this, "admin-password", {
      name: `${props.name}-admin-password`,
      keyVaultId: props.keyVaultId,
      contentType: `password of ${POSTGRES_ADMIN_LOGIN} on ${props.name}`,
      // uuid() is 128 bits from the operating system's CSPRNG. The fixed prefix
      // adds no secrecy; it guarantees an upper- and a lower-case letter, so with
      // the dashes Azure's three-of-four character classes always hold.
      valueWo: `${ADMIN_PASSWORD_PREFIX}\${uuid()}`,
      valueWoVersion: props.adminPasswordVersion,
      lifecycle: { preventDestroy: protect },
    });

    // The version is unknown until the secret is written, which defers the
    // read to apply on the first run and on every rotation.
    const ephemeralId = `${this.node.path.replace(/[^a-zA-Z0-9]/g, "_")}_admin_password`;
    TerraformStack.of(this).addOverride(`ephemeral.azurerm_key_vault_secret.${ephemeralId}`, {
      name: this.adminSecret.name,
      key_vault_id: this.adminSecret.keyVaultId,
      version: this.adminSecret.version,
    });

    this.server = new PostgresqlFlexibleServer(this, "server", {
      name: props.name,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      version: props.version,
      skuName: props.skuName,
      storageMb: flexibleServerStorageMb(props.storageGb),
      autoGrowEnabled: true,
      delegatedSubnetId: props.delegatedSubnetId,
      privateDnsZoneId: props.privateDnsZoneId,
      publicNetworkAccessEnabled: false,
      administratorLogin: POSTGRES_ADMIN_LOGIN,
      administratorPasswordWo: `\${ephemeral.azurerm_key_vault_secret.${ephemeralId}.value}`,
      administratorPasswordWoVersion: props.adminPasswordVersion,
      authentication: { activeDirectoryAuthEnabled: true, passwordAuthEnabled: true, tenantId: props.tenantId },
      backupRetentionDays: props.backupRetentionDays,
      geoRedundantBackupEnabled: props.geoRedundantBackup,
      highAvailability: props.highAvailability ? { mode: "ZoneRedundant" } : undefined,
      maintenanceWindow: { dayOfWeek: 0, startHour: 3, startMinute: 0 },
      lifecycle: {
        preventDestroy: protect,
        // Azure picks the zones and swaps them on failover. Autogrow raises
        // storage_mb (and the tier with it) in state, and a configured size
        // below the state's forces a new server: storage is create-only here.
        ignoreChanges: ["zone", "high_availability[0].standby_availability_zone", ...POSTGRES_CREATE_ONLY_STORAGE],
      },
      dependsOn: [this.adminSecret],
    });

    const parameters = Object.entries(POSTGRES_SERVER_PARAMETERS).map(
      ([name, value]) => new PostgresqlFlexibleServerConfiguration(this, `parameter-${name}`, { serverId: this.server.id, name, value }),
    );
    this.serverChildren.push(...parameters);

    this.parameters = parameters;
    if (props.databaseName !== undefined) this.database = this.addDatabase("database", props.databaseName, protect);

    if (props.entraAdministrator) {
      this.entraAdministrator = new PostgresqlFlexibleServerActiveDirectoryAdministrator(this, "entra-admin", {
        serverName: this.server.name,
        resourceGroupName: props.resourceGroupName,
        tenantId: props.tenantId,
        objectId: props.entraAdministrator.objectId,
        principalName: props.entraAdministrator.principalName,
        principalType: props.entraAdministrator.principalType,
      });
    }
    this.serverChildren.push(...(this.entraAdministrator ? [this.entraAdministrator] : []));
  }

  /** A database through Resource Manager: a child of the server, which a lock on the server covers. */
  private addDatabase(id: string, name: string, protect: boolean): PostgresqlFlexibleServerDatabase {
    const database = new PostgresqlFlexibleServerDatabase(this, id, {
      serverId: this.server.id,
      name,
      charset: "UTF8",
      collation: "en_US.utf8",
      lifecycle: { preventDestroy: protect },
      // Parameter changes restart the server; create the database after them.
      dependsOn: this.parameters,
    });
    this.serverChildren.push(database);
    return database;
  }

  /** Children that a config change replaces (every argument of the Entra administrator forces a new one). */
  get replaceableChildren(): TerraformResource[] {
    return this.entraAdministrator ? [this.entraAdministrator] : [];
  }

  get fqdn(): string {
    return this.server.fqdn;
  }
}
