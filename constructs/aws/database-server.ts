import type { Construct } from "constructs";
import type { AwsConfig, ServerSettings } from "../../config";
import { DataBackup } from "./backup";
import { BackupAlarms } from "./backup-alarms";
import { EncryptionKey } from "./kms-key";
import { RdsPostgres } from "./postgres";

/** What a data stack's backups are named and kept by. */
export interface BackupSettings {
  /** Prefix of the vault, plan, topic, role and alarm names. */
  readonly name: string;
  readonly region: string;
  readonly backup: AwsConfig["backup"];
  /** Production: vault lock, `prevent_destroy` on the vault, plan, selections and key. */
  readonly protect: boolean;
}

/**
 * A stack's vault and three-tier plan with their key and "backups haven't
 * run" alarms, added to `scope` as `backup-key`, `backup` and `backup-alarms`.
 */
export function dataBackup(scope: Construct, settings: BackupSettings, databaseArn?: string): DataBackup {
  const key = new EncryptionKey(scope, "backup-key", {
    alias: `${settings.name}/backup`,
    description: `Backup vault of ${settings.name}`,
    region: settings.region,
    viaServices: ["backup", "sns"],
    preventDestroy: settings.protect,
  });
  const backup = new DataBackup(scope, "backup", {
    name: settings.name,
    databaseArn,
    key,
    monthlyRetentionDays: settings.backup.monthlyRetentionDays,
    notificationEmails: settings.backup.notificationEmails,
    protect: settings.protect,
  });
  new BackupAlarms(scope, "backup-alarms", { name: settings.name, vaultName: backup.vault.name, topicArn: backup.topic.arn });
  return backup;
}

/** Where the platform puts databases and who may connect to them. */
export interface DatabaseNetwork {
  readonly vpcId: string;
  /** The private database subnets. */
  readonly subnetIds: string[];
  /** Security group allowed to connect (the cluster's nodes). */
  readonly clientSecurityGroupId: string;
}

export interface DatabaseServerProps extends BackupSettings {
  readonly server: ServerSettings;
  readonly network: DatabaseNetwork;
  /** @default - none (a shared server) */
  readonly databaseName?: string;
}

/**
 * A PostgreSQL server with its key and backups, added to `scope` as
 * `database-key`, `postgres` and what `dataBackup` adds: the same for an
 * environment's own server and a shared one.
 */
export function databaseServer(scope: Construct, props: DatabaseServerProps): { key: EncryptionKey; database: RdsPostgres; backup: DataBackup } {
  const { server, network } = props;
  const key = new EncryptionKey(scope, "database-key", {
    alias: `${props.name}/database`,
    description: `PostgreSQL storage, secrets and insights of ${props.name}`,
    region: props.region,
    // Storage, snapshots and Performance Insights through RDS; the master secret through Secrets Manager.
    viaServices: ["rds", "secretsmanager"],
    preventDestroy: props.protect,
  });
  const database = new RdsPostgres(scope, "postgres", {
    identifier: props.name,
    engineVersion: server.engineVersion,
    instanceClass: server.instanceClass,
    databaseName: props.databaseName,
    storageGb: server.storageGb,
    maxStorageGb: server.maxStorageGb,
    vpcId: network.vpcId,
    subnetIds: network.subnetIds,
    clientSecurityGroupId: network.clientSecurityGroupId,
    kmsKeyArn: key.arn,
    multiAz: server.highAvailability,
    backupRetentionDays: server.backupRetentionDays,
    protect: props.protect,
    // OS metrics every minute where an incident costs most.
    enhancedMonitoring: props.protect,
  });
  return { key, database, backup: dataBackup(scope, props, database.instance.arn) };
}
