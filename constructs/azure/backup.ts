import { DataProtectionBackupInstancePostgresqlFlexibleServer } from "@cdktf/provider-azurerm/lib/data-protection-backup-instance-postgresql-flexible-server";
import { DataProtectionBackupPolicyPostgresqlFlexibleServer } from "@cdktf/provider-azurerm/lib/data-protection-backup-policy-postgresql-flexible-server";
import { DataProtectionBackupVault } from "@cdktf/provider-azurerm/lib/data-protection-backup-vault";
import { DataResource } from "cdktf";
import { Construct } from "constructs";
import type { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import { DataProtectionBackupInstanceBlobStorage } from "@cdktf/provider-azurerm/lib/data-protection-backup-instance-blob-storage";
import { DataProtectionBackupPolicyBlobStorage } from "@cdktf/provider-azurerm/lib/data-protection-backup-policy-blob-storage";
import { assignRole, ROLES } from "./role-assignment";

/**
 * The operators' rule ("hourly to object storage; the first of each day kept
 * after a month; the first of each month kept after a year") as Azure can
 * express it. Vaulted Flexible Server backups run at most daily, so:
 * - hourly: the server's own continuous backup (point-in-time restore to any
 *   second in the retention window, WAL archived to zone- or geo-redundant storage);
 * - daily: one vaulted backup a day, kept `dailyRetentionDays`;
 * - monthly: the first backup of each month, kept `monthlyRetentionDays`.
 */
export const VAULTED_BACKUP_SCHEDULE = "R/2025-01-01T02:00:00+00:00/P1D";
export const MONTHLY_CRITERIA = "FirstOfMonth";
export const VAULT_STORE = "VaultStore";

/**
 * Seconds the first backup instance waits after the vault's role assignments:
 * Azure applies a new assignment within minutes, and an instance created
 * before that ends in a protection error that leaves it in Azure but not in
 * state, so the next apply stops with "needs to be imported".
 */
export const ROLE_PROPAGATION_SECONDS = 300;

/**
 * The policy's name carries its settings. Azure neither modifies a backup
 * policy nor deletes one in use, and every argument of the provider's policy
 * forces a new one: a new name lets Terraform create the new policy, move the
 * instance to it and only then delete the old one, in one apply.
 */
export function backupPolicyName(name: string, dailyRetentionDays: number, monthlyRetentionDays: number): string {
  return `${name}-daily${dailyRetentionDays}d-monthly${monthlyRetentionDays}d`;
}

export type BackupVaultProps = Pick<PostgresBackupProps, "name" | "location" | "resourceGroupName" | "redundancy" | "immutability" | "protect">;

/**
 * A Data Protection backup vault with its own identity. Protected vaults keep
 * deleted backups recoverable for 14 days (soft delete); unprotected ones have
 * soft delete off, since a soft-deleted vault blocks deleting its resource
 * group, and so a `cdktf destroy`, for 14 days.
 */
export function backupVault(scope: Construct, id: string, props: BackupVaultProps): DataProtectionBackupVault {
  const protect = props.protect ?? false;
  return new DataProtectionBackupVault(scope, id, {
    name: `${props.name}-backup`,
    location: props.location,
    resourceGroupName: props.resourceGroupName,
    datastoreType: "VaultStore",
    redundancy: props.redundancy,
    identity: { type: "SystemAssigned" },
    // "AlwaysOn" could never be turned off again; "On" keeps deleted backups 14 days.
    softDelete: protect ? "On" : "Off",
    retentionDurationInDays: protect ? 14 : undefined,
    immutability: props.immutability,
    lifecycle: { preventDestroy: protect },
  });
}

/**
 * Waits `ROLE_PROPAGATION_SECONDS` once the given role assignments exist, and
 * again only when one of them is created anew, so later applies never wait.
 */
export function waitForRoles(scope: Construct, id: string, assignments: Record<string, RoleAssignment>): DataResource {
  return new DataResource(scope, id, {
    triggersReplace: Object.fromEntries(Object.entries(assignments).map(([key, assignment]) => [key, assignment.id])),
    provisioners: [{ type: "local-exec", command: `sleep ${ROLE_PROPAGATION_SECONDS}` }],
  });
}

export interface PostgresBackupProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  /** The resource group holding the server; the vault needs to read it. */
  readonly resourceGroupId: string;
  readonly serverId: string;
  readonly redundancy: "LocallyRedundant" | "ZoneRedundant" | "GeoRedundant";
  /** Pass `Disabled` for a vault that must be deletable at once; `Locked` can never be undone. */
  readonly immutability: "Disabled" | "Unlocked" | "Locked";
  readonly dailyRetentionDays: number;
  readonly monthlyRetentionDays: number;
  /**
   * Keep the vault, policy and instance through a `terraform destroy`, and
   * deleted backups recoverable for 14 days (soft delete). Unprotected vaults
   * have soft delete off, since a soft-deleted vault blocks deleting its
   * resource group, and so a `cdktf destroy`, for 14 days.
   * @default false
   */
  readonly protect?: boolean;
}

/** A Data Protection backup vault, a daily policy with a monthly tier, and the server as its backup instance. */
export class PostgresBackup extends Construct {
  readonly vault: DataProtectionBackupVault;
  readonly policy: DataProtectionBackupPolicyPostgresqlFlexibleServer;
  readonly instance: DataProtectionBackupInstancePostgresqlFlexibleServer;
  /** The vault's role on the server: a resource under the server's scope. */
  readonly serverAccess: RoleAssignment;
  /** Passes once the vault's roles have had time to take effect. */
  readonly rolesPropagated: DataResource;

  constructor(scope: Construct, id: string, props: PostgresBackupProps) {
    super(scope, id);
    const protect = props.protect ?? false;

    this.vault = backupVault(this, "vault", props);

    this.policy = new DataProtectionBackupPolicyPostgresqlFlexibleServer(this, "policy", {
      name: backupPolicyName(props.name, props.dailyRetentionDays, props.monthlyRetentionDays),
      vaultId: this.vault.id,
      backupRepeatingTimeIntervals: [VAULTED_BACKUP_SCHEDULE],
      defaultRetentionRule: { lifeCycle: [{ dataStoreType: VAULT_STORE, duration: `P${props.dailyRetentionDays}D` }] },
      retentionRule: [
        {
          name: "monthly",
          priority: 25,
          criteria: { absoluteCriteria: MONTHLY_CRITERIA },
          lifeCycle: [{ dataStoreType: VAULT_STORE, duration: `P${props.monthlyRetentionDays}D` }],
        },
      ],
      // No prevent_destroy: the policy holds no data, and a retention change
      // must be able to delete the old one once the instance has moved.
      lifecycle: { createBeforeDestroy: true },
    });

    const principalId = this.vault.identity.principalId;
    const readGroup = assignRole(this, "vault-reads-resource-group", {
      principalId,
      role: ROLES.reader,
      on: props.resourceGroupId,
      principalType: "ServicePrincipal",
    });
    const backupServer = (this.serverAccess = assignRole(this, "vault-backs-up-server", {
      principalId,
      role: ROLES.postgresLongTermRetentionBackup,
      on: props.serverId,
      principalType: "ServicePrincipal",
    }));

    this.rolesPropagated = waitForRoles(this, "vault-roles-propagated", { readGroup, backupServer });

    this.instance = new DataProtectionBackupInstancePostgresqlFlexibleServer(this, "instance", {
      name: props.name,
      location: props.location,
      vaultId: this.vault.id,
      serverId: props.serverId,
      backupPolicyId: this.policy.id,
      lifecycle: { preventDestroy: protect },
      dependsOn: [readGroup, backupServer, this.rolesPropagated],
    });
  }
}

/**
 * Operational backups of storage accounts into a vault: continuous, kept in
 * the account itself, restorable to any point of the last
 * `OPERATIONAL_BACKUP_DAYS` days (blob point-in-time restore), so an
 * overwrite or a deletion by the application can be undone. The vault holds
 * the policy and the backup instances; one policy serves every account.
 */
export class BlobBackups extends Construct {
  private policy?: DataProtectionBackupPolicyBlobStorage;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: { readonly name: string; readonly location: string; readonly vault: DataProtectionBackupVault; readonly protect?: boolean },
  ) {
    super(scope, id);
  }

  /**
   * Backs up one storage account, keyed by `key` (the application's name).
   * `access` is the vault's role on the account: a resource under the account's scope.
   */
  add(key: string, storageAccountId: string, retentionDays: number): { instance: DataProtectionBackupInstanceBlobStorage; access: RoleAssignment } {
    const { vault } = this.props;
    this.policy ??= new DataProtectionBackupPolicyBlobStorage(this, "policy", {
      name: `${this.props.name}-objects-operational${retentionDays}d`,
      vaultId: vault.id,
      operationalDefaultRetentionDuration: `P${retentionDays}D`,
      lifecycle: { createBeforeDestroy: true },
    });
    const access = assignRole(this, `${key}-vault-backs-up-account`, {
      principalId: vault.identity.principalId,
      role: ROLES.storageAccountBackupContributor,
      on: storageAccountId,
      principalType: "ServicePrincipal",
    });
    const propagated = waitForRoles(this, `${key}-vault-role-propagated`, { account: access });
    const instance = new DataProtectionBackupInstanceBlobStorage(this, `${key}-instance`, {
      name: `${this.props.name}-${key}`,
      location: this.props.location,
      vaultId: vault.id,
      storageAccountId,
      backupPolicyId: this.policy.id,
      lifecycle: { preventDestroy: this.props.protect ?? false },
      dependsOn: [access, propagated],
    });
    return { instance, access };
  }
}
