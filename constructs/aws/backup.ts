import { BackupPlan } from "@cdktf/provider-aws/lib/backup-plan";
import { BackupSelection } from "@cdktf/provider-aws/lib/backup-selection";
import { BackupVault } from "@cdktf/provider-aws/lib/backup-vault";
import { BackupVaultLockConfiguration } from "@cdktf/provider-aws/lib/backup-vault-lock-configuration";
import { BackupVaultNotifications } from "@cdktf/provider-aws/lib/backup-vault-notifications";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import { policyDocument, ServiceRole, trustService } from "./iam";
import type { EncryptionKey } from "./kms-key";

/**
 * The operators' retention rule: hourly backups, the first of each day kept
 * after a month, the first of each month kept after a year. AWS Backup
 * expresses it as three rules over the same vault.
 */
export const BACKUP_TIERS = {
  hourly: { schedule: "cron(0 * * * ? *)", deleteAfterDays: 30 },
  daily: { schedule: "cron(0 0 * * ? *)", deleteAfterDays: 365 },
  monthly: { schedule: "cron(0 0 1 * ? *)" },
} as const;

export interface DatabaseBackupProps {
  readonly name: string;
  readonly resourceArn: string;
  /** Encrypts the vault and the notification topic; its policy is given AWS Backup's publishing. */
  readonly key: EncryptionKey;
  /** How long the monthly backups are kept. */
  readonly monthlyRetentionDays: number;
  readonly notificationEmails: string[];
  /**
   * Keep the vault and plan through a `terraform destroy`.
   * @default false
   */
  readonly protect?: boolean;
}

/** An encrypted vault, the three-tier plan, the selection of one database, and failure notifications. */
export class DatabaseBackup extends Construct {
  readonly vault: BackupVault;
  readonly plan: BackupPlan;
  readonly topic: SnsTopic;

  constructor(scope: Construct, id: string, props: DatabaseBackupProps) {
    super(scope, id);
    const protect = props.protect ?? false;

    this.vault = new BackupVault(this, "vault", {
      name: props.name,
      kmsKeyArn: props.key.arn,
      // Outside production, destroying the environment takes its recovery points with it.
      forceDestroy: !protect,
      lifecycle: { preventDestroy: protect },
    });

    if (protect) {
      // Governance mode: no one deletes a recovery point early or shortens retention
      // below the shortest tier, unless granted backup:DeleteBackupVaultLockConfiguration.
      new BackupVaultLockConfiguration(this, "lock", {
        backupVaultName: this.vault.name,
        minRetentionDays: BACKUP_TIERS.hourly.deleteAfterDays,
        maxRetentionDays: props.monthlyRetentionDays,
      });
    }

    this.plan = new BackupPlan(this, "plan", {
      name: props.name,
      rule: [
        {
          ruleName: "hourly",
          targetVaultName: this.vault.name,
          schedule: BACKUP_TIERS.hourly.schedule,
          startWindow: 60,
          completionWindow: 120,
          lifecycle: { deleteAfter: BACKUP_TIERS.hourly.deleteAfterDays },
        },
        {
          ruleName: "daily",
          targetVaultName: this.vault.name,
          schedule: BACKUP_TIERS.daily.schedule,
          startWindow: 60,
          completionWindow: 360,
          lifecycle: { deleteAfter: BACKUP_TIERS.daily.deleteAfterDays },
        },
        {
          ruleName: "monthly",
          targetVaultName: this.vault.name,
          schedule: BACKUP_TIERS.monthly.schedule,
          startWindow: 60,
          completionWindow: 720,
          lifecycle: { deleteAfter: props.monthlyRetentionDays },
        },
      ],
      lifecycle: { preventDestroy: protect },
    });

    const role = new ServiceRole(this, "role", {
      name: `${props.name}-backup`,
      trust: trustService("backup.amazonaws.com"),
      managedPolicies: ["service-role/AWSBackupServiceRolePolicyForBackup", "service-role/AWSBackupServiceRolePolicyForRestores"],
    });
    new BackupSelection(this, "selection", {
      name: props.name,
      planId: this.plan.id,
      iamRoleArn: role.arn,
      resources: [props.resourceArn],
      lifecycle: { preventDestroy: protect },
    });

    // A customer-managed key, because AWS Backup cannot publish to a topic under
    // the AWS-managed SNS key: the key policy lets the service encrypt messages.
    props.key.grantServicePrincipal("AwsBackupPublishesNotifications", "backup.amazonaws.com", ["kms:GenerateDataKey*", "kms:Decrypt"]);
    // The "backups haven't run" alarms notify through the same topic.
    props.key.grantServicePrincipal("CloudWatchAlarmsPublishNotifications", "cloudwatch.amazonaws.com", ["kms:GenerateDataKey*", "kms:Decrypt"]);
    this.topic = new SnsTopic(this, "failures", {
      name: `${props.name}-backup-failures`,
      kmsMasterKeyId: props.key.arn,
      dependsOn: [props.key.policy],
    });
    new SnsTopicPolicy(this, "failures-policy", {
      arn: this.topic.arn,
      policy: policyDocument([
        { Sid: "AwsBackupPublishes", Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "SNS:Publish", Resource: this.topic.arn },
        {
          Sid: "BackupAlarmsPublish",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: "SNS:Publish",
          Resource: this.topic.arn,
          Condition: { ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:*:*:alarm:${props.name}-*` } },
        },
      ]),
    });
    new BackupVaultNotifications(this, "notifications", {
      backupVaultName: this.vault.name,
      snsTopicArn: this.topic.arn,
      backupVaultEvents: ["BACKUP_JOB_FAILED", "RESTORE_JOB_FAILED", "COPY_JOB_FAILED", "S3_BACKUP_OBJECT_FAILED"],
    });
    props.notificationEmails.forEach((endpoint, i) => {
      new SnsTopicSubscription(this, `failures-email-${i}`, { topicArn: this.topic.arn, protocol: "email", endpoint });
    });
  }
}
