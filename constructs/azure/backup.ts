import { DataProtectionBackupInstancePostgresqlFlexibleServer } from "@cdktf/provider-azurerm/lib/data-protection-backup-instance-postgresql-flexible-server";
import { DataProtectionBackupPolicyPostgresqlFlexibleServer } from "@cdktf/provider-azurerm/lib/data-protection-backup-policy-postgresql-flexible-server";
import { DataProtectionBackupVault } from "@cdktf/provider-azurerm/lib/data-protection-backup-vault";
import { DataResource } from "cdktf";
import { Construct } from "constructs";
import type { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
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

    this.vault = new DataProtectionBackupVault(this, "vault", {
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

    // Created again only when an assignment is, so later applies never wait.
    this.rolesPropagated = new DataResource(this, "vault-roles-propagated", {
      triggersReplace: { readGroup: readGroup.id, backupServer: backupServer.id },
      provisioners: [{ type: "local-exec", command: `sleep ${ROLE_PROPAGATION_SECONDS}` }],
    });

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
