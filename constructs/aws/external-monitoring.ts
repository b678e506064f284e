import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route53HealthCheck } from "@cdktf/provider-aws/lib/route53-health-check";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import { CLOUD_ALARMS, runbookUrl } from "../common/runbook";
import type { UptimeTarget } from "../common/uptime-targets";
import { CertificateCheck } from "./certificate-check";
import type { PolicyStatement } from "./iam";
import { EncryptionKey } from "./kms-key";

/** Route 53 publishes health check metrics only in this region; alarms on them live there too. */
export const HEALTH_CHECK_REGION = "us-east-1";

export interface ExternalMonitoringProps {
  /** Prefix of every name. */
  readonly name: string;
  readonly alertEmails: string[];
  readonly uptimeTargets: UptimeTarget[];
  /** Tags of the stack's default provider, repeated on the alias. */
  readonly tags: Record<string, string>;
}

/** How the outside alarms decide; docs/alerting.md quotes them. */
export const EXTERNAL_ALARMS = {
  /** Route 53 checks every 30 s from several regions; a check is unhealthy after 3 failures. */
  uptime: { requestIntervalSeconds: 30, failureThreshold: 3, periodSeconds: 60, evaluationPeriods: 3 },
  /** The Watchdog arrives every minute or two; 10 minutes without one is the alarm. */
  heartbeat: { periodSeconds: 300, evaluationPeriods: 2 },
} as const;

/**
 * What watches the platform from outside the cluster, in us-east-1 with the
 * health check metrics: an HTTPS health check and alarm per exposed
 * application, a check of each one's certificate (which Route 53 does not
 * validate), the heartbeat topic Alertmanager publishes its Watchdog to
 * with an alarm on its silence, and the topic those alarms mail
 * `alerts.emails` through. Both topics are encrypted with a key CloudWatch may use.
 */
export class ExternalMonitoring extends Construct {
  readonly provider: AwsProvider;
  readonly alertTopic: SnsTopic;
  readonly heartbeatTopic: SnsTopic;
  readonly key: KmsKey;
  readonly healthChecks: Route53HealthCheck[] = [];
  /** What the health checks cannot see: whether each target's certificate is one a browser accepts. */
  readonly certificateCheck?: CertificateCheck;

  constructor(scope: Construct, id: string, props: ExternalMonitoringProps) {
    super(scope, id);
    this.provider = new AwsProvider(this, "provider", { alias: "external_monitoring", region: HEALTH_CHECK_REGION, defaultTags: [{ tags: props.tags }] });
    const provider = this.provider;

    // CloudWatch publishes alarm notifications to an encrypted topic only under
    // a customer-managed key whose policy lets it.
    const key = new EncryptionKey(this, "key", {
      provider,
      alias: `${props.name}/alerts`,
      description: `Alert and heartbeat topics of ${props.name}`,
      region: HEALTH_CHECK_REGION,
    });
    key.grantServicePrincipal("CloudWatchPublishes", "cloudwatch.amazonaws.com", ["kms:Decrypt", "kms:GenerateDataKey*"], {
      // The key's own account, read from its ARN: no data source, so planning needs no credentials.
      StringEquals: { "aws:SourceAccount": key.accountId },
    });
    this.key = key.key;

    this.alertTopic = new SnsTopic(this, "alerts", { provider, name: `${props.name}-alerts`, kmsMasterKeyId: this.key.arn });
    props.alertEmails.forEach((endpoint, i) => {
      new SnsTopicSubscription(this, `alerts-email-${i}`, { provider, topicArn: this.alertTopic.arn, protocol: "email", endpoint });
    });
    const notify = { alarmActions: [this.alertTopic.arn], okActions: [this.alertTopic.arn] };

    // Nobody subscribes: only its published-message count matters.
    this.heartbeatTopic = new SnsTopic(this, "heartbeat", { provider, name: `${props.name}-heartbeat`, kmsMasterKeyId: this.key.arn });
    const heartbeat = EXTERNAL_ALARMS.heartbeat;
    new CloudwatchMetricAlarm(this, "heartbeat-silent", {
      provider,
      alarmName: `${props.name}-monitoring-heartbeat-silent`,
      alarmDescription: `No Watchdog from Alertmanager for ${(heartbeat.periodSeconds * heartbeat.evaluationPeriods) / 60} minutes: Prometheus, Alertmanager or the cluster has stopped. Runbook: ${runbookUrl(CLOUD_ALARMS.heartbeatSilent)}`,
      namespace: "AWS/SNS",
      metricName: "NumberOfMessagesPublished",
      dimensions: { TopicName: this.heartbeatTopic.name },
      statistic: "Sum",
      period: heartbeat.periodSeconds,
      evaluationPeriods: heartbeat.evaluationPeriods,
      threshold: 1,
      comparisonOperator: "LessThanThreshold",
      // A stopped Alertmanager publishes nothing, which is no data at all.
      treatMissingData: "breaching",
      ...notify,
    });

    if (props.uptimeTargets.length > 0) {
      this.certificateCheck = new CertificateCheck(this, "certificate-check", {
        name: props.name,
        provider,
        targets: props.uptimeTargets,
        key,
        topicArn: this.alertTopic.arn,
      });
    }

    const uptime = EXTERNAL_ALARMS.uptime;
    for (const target of props.uptimeTargets) {
      const slug = `${target.environment}-${target.application}`;
      const check = new Route53HealthCheck(this, `uptime-${slug}`, {
        provider,
        type: "HTTPS",
        fqdn: target.host,
        port: 443,
        resourcePath: target.path,
        enableSni: true,
        requestInterval: uptime.requestIntervalSeconds,
        failureThreshold: uptime.failureThreshold,
        tags: { Name: `${props.name}-${slug}` },
      });
      this.healthChecks.push(check);
      new CloudwatchMetricAlarm(this, `uptime-${slug}-alarm`, {
        provider,
        alarmName: `${props.name}-${slug}-down`,
        alarmDescription: `https://${target.host}${target.path} fails Route 53's health checks. Runbook: ${runbookUrl(CLOUD_ALARMS.uptimeCheckFailing)}`,
        namespace: "AWS/Route53",
        metricName: "HealthCheckStatus",
        dimensions: { HealthCheckId: check.id },
        statistic: "Minimum",
        period: uptime.periodSeconds,
        evaluationPeriods: uptime.evaluationPeriods,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
        ...notify,
      });
    }
  }

  /** What Alertmanager's identity needs to publish the Watchdog, and nothing else. */
  publishHeartbeatStatements(): PolicyStatement[] {
    return [
      { Sid: "PublishHeartbeat", Effect: "Allow", Action: "sns:Publish", Resource: this.heartbeatTopic.arn },
      { Sid: "EncryptHeartbeat", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: this.key.arn },
    ];
  }

  /** Alertmanager's receiver for the Watchdog. */
  heartbeatReceiver(): Record<string, unknown> {
    return snsHeartbeatReceiver(this.heartbeatTopic.arn);
  }
}

/** An Alertmanager receiver publishing to the heartbeat topic with the pod's AWS credentials. */
export function snsHeartbeatReceiver(topicArn: string): Record<string, unknown> {
  return {
    sns_configs: [
      {
        topic_arn: topicArn,
        sigv4: { region: HEALTH_CHECK_REGION },
        subject: "Watchdog",
        message: "{{ .CommonLabels.alertname }} {{ .Status }}",
        send_resolved: false,
      },
    ],
  };
}
