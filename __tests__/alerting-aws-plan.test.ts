import { beforeAll, describe, expect, it } from "vitest";
import { BACKUP_SILENCE_HOURS } from "../constructs/aws/backup-alarms";
import { EXTERNAL_ALARMS, HEALTH_CHECK_REGION } from "../constructs/aws/uptime-checks";
import { skipNote } from "./support/environment";
import { sharedOfflinePlans } from "./support/offline-plans";
import { offlineTerraform, plannedTypes, type OfflinePlanResult } from "./support/offline-terraform";

const terraform = offlineTerraform();

/** Planned values of every managed resource of a type, with its address. */
function planned(plan: any, type: string): any[] {
  return (plan.resource_changes ?? []).filter((c: any) => c.mode === "managed" && c.type === type).map((c: any) => ({ address: c.address, ...c.change.after }));
}

/** The configuration block of a resource: its provider and the references of its expressions. */
function configured(plan: any, address: string): any {
  return plan.configuration.root_module.resources.find((r: any) => r.address === address);
}

describe.skipIf(!terraform.available)(`outside alarms in the offline AWS plans${skipNote(terraform)}`, () => {
  let plans: Record<string, OfflinePlanResult>;
  beforeAll(() => ({ plans } = sharedOfflinePlans()));

  describe("aws-platform", () => {
    const plan = () => plans["aws-platform"].plan;

    it("configures a provider alias in the region of Route 53's health check metrics", () => {
      expect(plan().configuration.provider_config["aws.external_monitoring"].expressions.region.constant_value).toBe(HEALTH_CHECK_REGION);
    });

    it("checks each production application's health path over HTTPS from outside", () => {
      const checks = planned(plan(), "aws_route53_health_check");
      expect(checks.map((c) => [c.fqdn, c.resource_path]).sort()).toEqual([
        ["api.apps.example.com", "/api/v1/health"],
        ["web.apps.example.com", "/healthz"],
      ]);
      for (const check of checks) {
        expect(check).toMatchObject({ type: "HTTPS", port: 443, enable_sni: true, request_interval: 30, failure_threshold: 3 });
        expect(configured(plan(), check.address).provider_config_key).toBe("aws.external_monitoring");
      }
    });

    it("alarms on each failing health check, missing data breaching, to the alerts topic", () => {
      const alarms = planned(plan(), "aws_cloudwatch_metric_alarm").filter((a) => a.namespace === "AWS/Route53");
      expect(alarms.map((a) => a.alarm_name).sort()).toEqual(["acme-platform-production-api-down", "acme-platform-production-web-down"]);
      for (const alarm of alarms) {
        expect(alarm).toMatchObject({
          metric_name: "HealthCheckStatus",
          statistic: "Minimum",
          period: EXTERNAL_ALARMS.uptime.periodSeconds,
          evaluation_periods: EXTERNAL_ALARMS.uptime.evaluationPeriods,
          threshold: 1,
          comparison_operator: "LessThanThreshold",
          treat_missing_data: "breaching",
        });
        const config = configured(plan(), alarm.address);
        expect(config.provider_config_key).toBe("aws.external_monitoring");
        expect(config.expressions.alarm_actions.references.join(" ")).toMatch(/aws_sns_topic\.external-monitoring_alerts_\w+\.arn/);
        expect(config.expressions.dimensions.references.join(" ")).toMatch(/aws_route53_health_check\.external-monitoring_uptime-production-(web|api)/);
      }
    });

    it("alarms when the heartbeat topic stays silent for 10 minutes, no data counting as silence", () => {
      const [alarm] = planned(plan(), "aws_cloudwatch_metric_alarm").filter((a) => a.namespace === "AWS/SNS");
      expect(alarm).toMatchObject({
        alarm_name: "acme-platform-monitoring-heartbeat-silent",
        metric_name: "NumberOfMessagesPublished",
        statistic: "Sum",
        period: 300,
        evaluation_periods: 2,
        threshold: 1,
        comparison_operator: "LessThanThreshold",
        treat_missing_data: "breaching",
      });
      expect(EXTERNAL_ALARMS.heartbeat.periodSeconds * EXTERNAL_ALARMS.heartbeat.evaluationPeriods).toBeLessThanOrEqual(15 * 60 - 5 * 60);
      const config = configured(plan(), alarm.address);
      expect(config.expressions.dimensions.references.join(" ")).toMatch(/aws_sns_topic\.external-monitoring_heartbeat_\w+\.name/);
      expect(config.expressions.alarm_actions.references.join(" ")).toMatch(/aws_sns_topic\.external-monitoring_alerts_\w+\.arn/);
    });

    it("mails alerts.emails from an encrypted alerts topic, and lets no one subscribe to the heartbeat", () => {
      const topics = planned(plan(), "aws_sns_topic");
      expect(topics.map((t) => t.name).sort()).toEqual(["acme-platform-alerts", "acme-platform-heartbeat"]);
      const subscriptions = planned(plan(), "aws_sns_topic_subscription");
      expect(subscriptions.map((s) => [s.protocol, s.endpoint])).toEqual([["email", "platform-alerts@example.com"]]);
      expect(configured(plan(), subscriptions[0].address).expressions.topic_arn.references.join(" ")).toMatch(/external-monitoring_alerts_/);
      for (const topic of topics) expect(configured(plan(), topic.address).expressions.kms_master_key_id.references.join(" ")).toMatch(/aws_kms_key\.external-monitoring_key_/);
    });

    it("lets Alertmanager's service account, and only it, publish to the heartbeat topic", () => {
      const association = planned(plan(), "aws_eks_pod_identity_association").find((a) => a.namespace === "monitoring");
      expect(association).toMatchObject({ namespace: "monitoring", service_account: "alertmanager" });
      const policy = planned(plan(), "aws_iam_role_policy").find((p) => p.address.includes("alertmanager-heartbeat"));
      const references = configured(plan(), policy.address).expressions.policy.references.join(" ");
      expect(references).toMatch(/aws_sns_topic\.external-monitoring_heartbeat_\w+\.arn/);
      expect(references).not.toMatch(/external-monitoring_alerts_/);
    });
  });

  describe.each(["develop", "staging", "production"])("aws-%s-data", (environment) => {
    const plan = () => plans[`aws-${environment}-data`].plan;

    it("alarms when no backup job completed in 2 hours, or in 26, to the environment's notification topic", () => {
      expect(plannedTypes(plan())).toMatchObject({ aws_cloudwatch_metric_alarm: 2 });
      const alarms = planned(plan(), "aws_cloudwatch_metric_alarm").sort((a, b) => a.evaluation_periods - b.evaluation_periods);
      expect(alarms.map((a) => [a.alarm_name, a.period * a.evaluation_periods / 3600])).toEqual([
        [`acme-${environment}-no-hourly-backup`, BACKUP_SILENCE_HOURS.hourly],
        [`acme-${environment}-no-daily-backup`, BACKUP_SILENCE_HOURS.daily],
      ]);
      for (const alarm of alarms) {
        expect(alarm).toMatchObject({
          namespace: "AWS/Backup",
          metric_name: "NumberOfBackupJobsCompleted",
          dimensions: { BackupVaultName: `acme-${environment}` },
          statistic: "Sum",
          threshold: 1,
          comparison_operator: "LessThanThreshold",
          treat_missing_data: "breaching",
        });
        expect(alarm.datapoints_to_alarm).toBe(alarm.evaluation_periods);
        expect(configured(plan(), alarm.address).expressions.alarm_actions.references.join(" ")).toMatch(/aws_sns_topic\.backup_failures_\w+\.arn/);
      }
    });
  });
});
