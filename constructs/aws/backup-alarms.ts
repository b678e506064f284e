import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { CLOUD_ALARMS, runbookUrl } from "../common/runbook";

/**
 * How long a vault may go without a completed backup job. The hourly rule
 * completes a job every hour; the daily one at least once a day (26 h leaves
 * its start and completion windows). A window is counted in hours of the
 * vault's metric, each needing a datapoint of zero, or none at all.
 */
export const BACKUP_SILENCE_HOURS = { hourly: 2, daily: 26 } as const;

export interface BackupAlarmsProps {
  /** Prefix of the alarm names. */
  readonly name: string;
  readonly vaultName: string;
  /** The environment's notification topic. */
  readonly topicArn: string;
}

/**
 * "Backups haven't run", seen by AWS Backup itself: alarms on the vault's
 * completed-job count, where no data (the plan stopped, the selection lost
 * its resource) counts as breaching. The vault's metrics do not say which
 * rule made a job: the daily alarm is the backstop when hourly jobs stop
 * with the rest, and a failed daily job is already mailed by the vault's
 * BACKUP_JOB_FAILED notification.
 */
export class BackupAlarms extends Construct {
  readonly alarms: CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: BackupAlarmsProps) {
    super(scope, id);
    this.alarms = Object.entries(BACKUP_SILENCE_HOURS).map(
      ([tier, hours]) =>
        new CloudwatchMetricAlarm(this, tier, {
          alarmName: `${props.name}-no-${tier}-backup`,
          alarmDescription: `No backup job completed in vault ${props.vaultName} for ${hours} hours. Runbook: ${runbookUrl(CLOUD_ALARMS.backupNotCompleted)}`,
          namespace: "AWS/Backup",
          metricName: "NumberOfBackupJobsCompleted",
          dimensions: { BackupVaultName: props.vaultName },
          statistic: "Sum",
          period: 3600,
          evaluationPeriods: hours,
          datapointsToAlarm: hours,
          threshold: 1,
          comparisonOperator: "LessThanThreshold",
          treatMissingData: "breaching",
          alarmActions: [props.topicArn],
          okActions: [props.topicArn],
        }),
    );
  }
}
