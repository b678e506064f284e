import { MonitorDiagnosticSetting } from "@cdktf/provider-azurerm/lib/monitor-diagnostic-setting";
import type { MonitorScheduledQueryRulesAlertV2 } from "@cdktf/provider-azurerm/lib/monitor-scheduled-query-rules-alert-v2";
import { Construct } from "constructs";
import { CLOUD_ALARMS, runbookUrl } from "../common/runbook";
import { logAlert } from "./log-alert";

/** A vaulted backup runs daily; 26 h leaves room for its window. */
export const DAILY_BACKUP_SILENCE_HOURS = 26;

export interface BackupAlertsProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly vaultId: string;
  readonly workspaceId: string;
  readonly actionGroupId: string;
}

/**
 * "Backups haven't run" on Azure: the vault sends its job logs to the
 * platform's Log Analytics workspace, and two scheduled queries on them
 * alert the action group, one when no backup job completed in 26 hours,
 * one when a job failed. Queries rather than the vault's built-in alerts,
 * because only a query notices jobs that never started.
 */
export class BackupAlerts extends Construct {
  readonly notCompleted: MonitorScheduledQueryRulesAlertV2;
  readonly failed: MonitorScheduledQueryRulesAlertV2;

  constructor(scope: Construct, id: string, props: BackupAlertsProps) {
    super(scope, id);
    const diagnostics = new MonitorDiagnosticSetting(this, "diagnostics", {
      name: "backup-jobs-to-log-analytics",
      targetResourceId: props.vaultId,
      logAnalyticsWorkspaceId: props.workspaceId,
      // Resource-specific tables (AddonAzureBackupJobs) rather than AzureDiagnostics.
      logAnalyticsDestinationType: "Dedicated",
      enabledLog: [{ category: "AddonAzureBackupJobs" }, { category: "CoreAzureBackup" }],
    });
    const common = { location: props.location, resourceGroupName: props.resourceGroupName, scope: props.vaultId, actionGroupIds: [props.actionGroupId], dependsOn: [diagnostics] };
    this.notCompleted = logAlert(this, "not-completed", {
      ...common,
      name: `${props.name}-no-daily-backup`,
      description: `No backup job completed in ${DAILY_BACKUP_SILENCE_HOURS} hours. Runbook: ${runbookUrl(CLOUD_ALARMS.backupNotCompleted)}`,
      query: [
        "AddonAzureBackupJobs",
        `| where TimeGenerated > ago(${DAILY_BACKUP_SILENCE_HOURS}h)`,
        '| where JobOperation == "Backup" and JobStatus == "Completed"',
        "| summarize Completed = count()",
      ].join("\n"),
      measure: "Completed",
      operator: "LessThan",
      threshold: 1,
      frequency: "PT1H",
      // The longest window Azure allows; the query itself looks back 26 hours.
      window: "P2D",
      severity: 1,
    });
    this.failed = logAlert(this, "failed", {
      ...common,
      name: `${props.name}-backup-failed`,
      description: `A backup job failed. Runbook: ${runbookUrl(CLOUD_ALARMS.backupFailed)}`,
      query: ["AddonAzureBackupJobs", '| where JobOperation == "Backup" and JobStatus == "Failed"', "| summarize Failed = count()"].join("\n"),
      measure: "Failed",
      operator: "GreaterThan",
      threshold: 0,
      frequency: "PT1H",
      window: "PT1H",
      severity: 1,
    });
  }
}
