import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AwsConfig, EnvironmentConfig, PlatformConfig } from "../config";
import { DatabaseBackup } from "../constructs/aws/backup";
import { BackupAlarms } from "../constructs/aws/backup-alarms";
import { ServiceRole, trustServiceAccount } from "../constructs/aws/iam";
import { EncryptionKey } from "../constructs/aws/kms-key";
import { RdsPostgres } from "../constructs/aws/postgres";
import { POSTGRES_PORT } from "../constructs/common/postgres";
import { setUpAwsStack } from "../constructs/aws/stack-setup";
import { boundedName } from "../constructs/common/naming";
import { IN_CLUSTER, type DatabaseEndpoint } from "../constructs/contract";
import type { AwsPlatformStack } from "./aws-platform-stack";

export interface AwsDataStackProps {
  readonly config: PlatformConfig;
  readonly aws: AwsConfig;
  readonly environment: EnvironmentConfig;
  readonly platform: AwsPlatformStack;
}

/**
 * One environment's stateful resources: its PostgreSQL, backups and keys,
 * in their own state so no other apply can touch them.
 */
export class AwsDataStack extends TerraformStack {
  readonly database: RdsPostgres;
  readonly endpoint: DatabaseEndpoint;

  constructor(scope: Construct, id: string, props: AwsDataStackProps) {
    super(scope, id);
    const { config, aws, environment, platform } = props;
    setUpAwsStack(this, { config, aws, stackId: id, environment: environment.name });
    const production = environment.stage === "production";
    // RDS identifiers are at most 63 characters.
    const name = boundedName(63, config.project, environment.name);

    const databaseKey = new EncryptionKey(this, "database-key", {
      alias: `${name}/database`,
      description: `PostgreSQL storage, secrets and insights of ${name}`,
      region: aws.region,
      // Storage, snapshots and Performance Insights through RDS; the master secret through Secrets Manager.
      viaServices: ["rds", "secretsmanager"],
      preventDestroy: production,
    });
    const backupKey = new EncryptionKey(this, "backup-key", {
      alias: `${name}/backup`,
      description: `Backup vault of ${name}`,
      region: aws.region,
      viaServices: ["backup", "sns"],
      preventDestroy: production,
    });

    this.database = new RdsPostgres(this, "postgres", {
      identifier: name,
      engineVersion: environment.database.engineVersion,
      instanceClass: environment.database.instanceClass,
      databaseName: environment.database.name,
      storageGb: environment.database.storageGb,
      maxStorageGb: environment.database.maxStorageGb,
      vpcId: platform.network.vpc.id,
      subnetIds: platform.network.databaseSubnetIds,
      clientSecurityGroupId: platform.eks.clusterSecurityGroupId,
      kmsKeyArn: databaseKey.arn,
      multiAz: environment.database.highAvailability,
      backupRetentionDays: environment.database.backupRetentionDays,
      protect: production,
      // OS metrics every minute where an incident costs most.
      enhancedMonitoring: production,
    });

    const backup = new DatabaseBackup(this, "backup", {
      name,
      resourceArn: this.database.instance.arn,
      key: backupKey,
      monthlyRetentionDays: aws.backup.monthlyRetentionDays,
      notificationEmails: aws.backup.notificationEmails,
      protect: production,
    });
    new BackupAlarms(this, "backup-alarms", { name, vaultName: backup.vault.name, topicArn: backup.topic.arn });

    // The environment's application service account: its own credentials and the registry, nothing else.
    const appRole = new ServiceRole(this, "app-role", {
      name: boundedName(64, name, "app"),
      trust: trustServiceAccount(this, "app-trust", platform.eks.oidcProvider.arn, platform.eks.oidcIssuerUrl, environment.name, IN_CLUSTER.applicationServiceAccount),
      statements: [...this.database.readCredentialsStatements(databaseKey.arn), ...platform.ecr.pullStatements()],
    });
    // Decrypting the master secret, and only by reading it through Secrets Manager.
    databaseKey.grantRole("ApplicationReadsDatabaseSecret", appRole.arn, ["kms:Decrypt"], "secretsmanager");

    this.endpoint = {
      host: this.database.instance.address,
      port: POSTGRES_PORT,
      database: environment.database.name,
      credentials: { remoteKey: this.database.secretArn, usernameProperty: "username", passwordProperty: "password" },
      cidrs: platform.network.databaseSubnetCidrs,
      applicationIdentity: { serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": appRole.arn }, podLabels: {} },
      secretStore: {
        aws: {
          service: "SecretsManager",
          region: aws.region,
          auth: { jwt: { serviceAccountRef: { name: IN_CLUSTER.applicationServiceAccount } } },
        },
      },
    };

    new TerraformOutput(this, "database_address", { value: this.database.instance.address });
    new TerraformOutput(this, "database_secret_arn", { value: this.database.secretArn });
    // Read by `npm run doctor`.
    new TerraformOutput(this, "database_identifier", { value: this.database.instance.identifier });
    new TerraformOutput(this, "backup_vault", { value: backup.vault.name });
  }
}
