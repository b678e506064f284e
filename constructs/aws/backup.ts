import { BackupPlan } from "@cdktf/provider-aws/lib/backup-plan";
import { BackupSelection } from "@cdktf/provider-aws/lib/backup-selection";
import { BackupVault } from "@cdktf/provider-aws/lib/backup-vault";
import { BackupVaultLockConfiguration } from "@cdktf/provider-aws/lib/backup-vault-lock-configuration";
import { BackupVaultNotifications } from "@cdktf/provider-aws/lib/backup-vault-notifications";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { itemKey, movedFromPositionalId } from "../common/item-ids";
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

export interface DataBackupProps {
  readonly name: string;
  /**
   * The database the plan backs up, in the selection `selection`.
   * @default - none: only what `selectBucket` adds
   */
  readonly databaseArn?: string;
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

/**
 * An encrypted vault, the three-tier plan, failure notifications, and a
 * selection for each thing backed up: the stack's database, and each bucket
 * (`selectBucket`), keyed by name so that adding one never replaces another.
 */
export class DataBackup extends Construct {
  readonly vault: BackupVault;
  readonly plan: BackupPlan;
  readonly topic: SnsTopic;
  /** The role AWS Backup works as: keys of what it backs up must let it in. */
  readonly role: ServiceRole;
  private readonly protect: boolean;
  private s3Policies = false;

  constructor(scope: Construct, id: string, props: DataBackupProps) {
    super(scope, id);
    const protect = (this.protect = props.protect ?? false);

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

    this.role = new ServiceRole(this, "role", {
      name: `${props.name}-backup`,
      trust: trustService("backup.amazonaws.com"),
      managedPolicies: ["service-role/AWSBackupServiceRolePolicyForBackup", "service-role/AWSBackupServiceRolePolicyForRestores"],
    });
    if (props.databaseArn !== undefined) {
      new BackupSelection(this, "selection", {
        name: props.name,
        planId: this.plan.id,
        iamRoleArn: this.role.arn,
        resources: [props.databaseArn],
        lifecycle: { preventDestroy: protect },
      });
    }

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
    [...new Set(props.notificationEmails)].forEach((endpoint, i) => {
      const subscription = new SnsTopicSubscription(this, `failures-email-${itemKey(endpoint)}`, { topicArn: this.topic.arn, protocol: "email", endpoint });
      movedFromPositionalId(subscription, `failures-email-${i}`);
    });
  }

  /**
   * Backs up a versioned bucket with the same plan: AWS Backup's S3 policies
   * on the role, and the bucket's key opened to that role through S3.
   */
  selectBucket(id: string, name: string, bucketArn: string, key: EncryptionKey, dependsOn: ITerraformDependable[]): BackupSelection {
    if (!this.s3Policies) {
      this.s3Policies = true;
      for (const policy of ["service-role/AWSBackupServiceRolePolicyForS3Backup", "service-role/AWSBackupServiceRolePolicyForS3Restore"]) {
        this.role.attachManagedPolicy(policy);
      }
    }
    key.grantRole("AwsBackupUsesKeyThroughS3", this.role.arn, ["kms:Decrypt", "kms:GenerateDataKey"], "s3");
    return new BackupSelection(this, `selection-${id}`, {
      name,
      planId: this.plan.id,
      iamRoleArn: this.role.arn,
      resources: [bucketArn],
      lifecycle: { preventDestroy: this.protect },
      // AWS Backup refuses a bucket without versioning, and starts with the role's S3 policies.
      dependsOn: [...dependsOn, ...this.role.dependables],
    });
  }
}
