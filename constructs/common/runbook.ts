/** Where each alert's runbook entry lives: a heading of docs/alerting.md named after the alert. */
export const runbookUrl = (alert: string): string => `docs/alerting.md#${alert.toLowerCase()}`;

/** Alerts raised by the clouds rather than by Prometheus; each has a runbook entry too. */
export const CLOUD_ALARMS = {
  backupNotCompleted: "BackupNotCompleted",
  backupFailed: "BackupFailed",
  uptimeCheckFailing: "UptimeCheckFailing",
  heartbeatSilent: "HeartbeatSilent",
  objectStorageAccessDenied: "ObjectStorageAccessDenied",
  objectStorageServerErrors: "ObjectStorageServerErrors",
} as const;
