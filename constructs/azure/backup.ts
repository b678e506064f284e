import { DataProtectionBackupInstancePostgresqlFlexibleServer } from "@cdktf/provider-azurerm/lib/data-protection-backup-instance-postgresql-flexible-server";
import { DataProtectionBackupPolicyPostgresqlFlexibleServer } from "@cdktf/provider-azurerm/lib/data-protection-backup-policy-postgresql-flexible-server";
import { DataProtectionBackupVault } from "@cdktf/provider-azurerm/lib/data-protection-backup-vault";
import { Construct } from "constructs";
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
      name: `${props.name}-daily-monthly`,
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
      lifecycle: { preventDestroy: protect },
    });

    const principalId = this.vault.identity.principalId;
    const readGroup = assignRole(this, "vault-reads-resource-group", {
      principalId,
      role: ROLES.reader,
      on: props.resourceGroupId,
      principalType: "ServicePrincipal",
    });
    const backupServer = assignRole(this, "vault-backs-up-server", {
      principalId,
      role: ROLES.postgresLongTermRetentionBackup,
      on: props.serverId,
      principalType: "ServicePrincipal",
    });

    this.instance = new DataProtectionBackupInstancePostgresqlFlexibleServer(this, "instance", {
      name: props.name,
      location: props.location,
      vaultId: this.vault.id,
      serverId: props.serverId,
      backupPolicyId: this.policy.id,
      lifecycle: { preventDestroy: protect },
      dependsOn: [readGroup, backupServer],
    });
  }
}
