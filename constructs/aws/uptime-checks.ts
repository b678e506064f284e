import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route53HealthCheck } from "@cdktf/provider-aws/lib/route53-health-check";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import { itemKey, movedFromPositionalId } from "../common/item-ids";
import { CLOUD_ALARMS, runbookUrl } from "../common/runbook";
import type { UptimeTarget } from "../common/uptime-targets";
import { CertificateCheck } from "./certificate-check";
import { policyDocument, type PolicyStatement } from "./iam";
import { EncryptionKey } from "./kms-key";

/** Route 53 publishes health check metrics only in this region; alarms on them live there too. */
export const HEALTH_CHECK_REGION = "us-east-1";

export interface AwsUptimeChecksProps {
  /** Prefix of every name. */
  readonly name: string;
  readonly alertEmails: string[];
  /**
   * The pager's e-mail integration address: the heartbeat alarm and the
   * uptime alarms of `pagedEnvironments` also go to a topic it subscribes to.
   * @default - no pager
   */
  readonly pageEmail?: string;
  /** Environments whose uptime alarms page. */
  readonly pagedEnvironments: readonly string[];
  readonly uptimeTargets: UptimeTarget[];
  /** Tags of the stack's default provider, repeated on the alias. */
  readonly tags: Record<string, string>;
}

/** What SNS asks of KMS for a publisher to an encrypted topic. */
export const HEARTBEAT_KEY_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"] as const;
/** The encryption context key SNS sets, naming the topic a message is encrypted for. */
export const SNS_TOPIC_CONTEXT = "aws:sns:topicArn";

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
export class AwsUptimeChecks extends Construct {
  readonly provider: AwsProvider;
  readonly alertTopic: SnsTopic;
  /** The pager's topic, when there is a pager. */
  readonly pagesTopic?: SnsTopic;
  readonly heartbeatTopic: SnsTopic;
  /** In ALARM when no Watchdog arrived for 10 minutes; `npm run doctor` reads its metric. */
  readonly heartbeatAlarm: CloudwatchMetricAlarm;
  readonly key: KmsKey;
  readonly encryptionKey: EncryptionKey;
  readonly healthChecks: Route53HealthCheck[] = [];
  /** What the health checks cannot see: whether each target's certificate is one a browser accepts. */
  readonly certificateCheck?: CertificateCheck;

  constructor(scope: Construct, id: string, props: AwsUptimeChecksProps) {
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
    this.encryptionKey = key;

    this.alertTopic = new SnsTopic(this, "alerts", { provider, name: `${props.name}-alerts`, kmsMasterKeyId: this.key.arn });
    // Ids from the address, not its position: reordering the list re-creates no subscription (each would need confirming again).
    [...new Set(props.alertEmails)].forEach((endpoint, i) => {
      const subscription = new SnsTopicSubscription(this, `alerts-email-${itemKey(endpoint)}`, { provider, topicArn: this.alertTopic.arn, protocol: "email", endpoint });
      movedFromPositionalId(subscription, `alerts-email-${i}`);
    });
    const notify = { alarmActions: [this.alertTopic.arn], okActions: [this.alertTopic.arn] };
    // An e-mail subscription of the pager's e-mail integration: an HTTPS
    // endpoint would carry the pager's key in its URL, into Terraform's state.
    if (props.pageEmail) {
      this.pagesTopic = new SnsTopic(this, "pages", { provider, name: `${props.name}-pages`, kmsMasterKeyId: this.key.arn });
      new SnsTopicSubscription(this, "pages-email", { provider, topicArn: this.pagesTopic.arn, protocol: "email", endpoint: props.pageEmail });
    }
    const page = this.pagesTopic
      ? { alarmActions: [this.alertTopic.arn, this.pagesTopic.arn], okActions: [this.alertTopic.arn, this.pagesTopic.arn] }
      : notify;

    // Nobody subscribes: only its published-message count matters.
    this.heartbeatTopic = new SnsTopic(this, "heartbeat", { provider, name: `${props.name}-heartbeat`, kmsMasterKeyId: this.key.arn });
    const heartbeat = EXTERNAL_ALARMS.heartbeat;
    this.heartbeatAlarm = new CloudwatchMetricAlarm(this, "heartbeat-silent", {
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
      // Nothing in the cluster can page while its monitoring is down.
      ...page,
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
        ...(props.pagedEnvironments.includes(target.environment) ? page : notify),
      });
    }
  }

  /**
   * What Alertmanager's identity needs to publish the Watchdog, and nothing
   * else: the publish, and the key through SNS for this topic alone.
   */
  publishHeartbeatStatements(): PolicyStatement[] {
    return [
      { Sid: "PublishHeartbeat", Effect: "Allow", Action: "sns:Publish", Resource: this.heartbeatTopic.arn },
      {
        Sid: "EncryptHeartbeat",
        Effect: "Allow",
        Action: [...HEARTBEAT_KEY_ACTIONS],
        Resource: this.key.arn,
        Condition: { StringEquals: this.heartbeatKeyConditions() },
      },
    ];
  }

  /**
   * The resource side of the heartbeat publish: the topic's policy lets the
   * role publish (and no one subscribe), and the key's policy lets it use
   * the key through SNS for this topic. A customer-managed key is usable only
   * when its own policy says so: the role's IAM policy alone is not enough.
   */
  allowHeartbeatPublisher(roleArn: string): void {
    this.encryptionKey.grantRole("AlertmanagerPublishesHeartbeat", roleArn, [...HEARTBEAT_KEY_ACTIONS], "sns", { [SNS_TOPIC_CONTEXT]: this.heartbeatTopic.arn });
    new SnsTopicPolicy(this, "heartbeat-policy", {
      provider: this.provider,
      arn: this.heartbeatTopic.arn,
      policy: policyDocument([
        { Sid: "AlertmanagerPublishes", Effect: "Allow", Principal: { AWS: roleArn }, Action: "sns:Publish", Resource: this.heartbeatTopic.arn },
        // Only the count of published messages matters; a subscriber would only read Watchdogs.
        { Sid: "NobodySubscribes", Effect: "Deny", Principal: { AWS: "*" }, Action: "sns:Subscribe", Resource: this.heartbeatTopic.arn },
      ]),
    });
  }

  private heartbeatKeyConditions(): Record<string, string> {
    return { "kms:ViaService": `sns.${HEALTH_CHECK_REGION}.amazonaws.com`, [`kms:EncryptionContext:${SNS_TOPIC_CONTEXT}`]: this.heartbeatTopic.arn };
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
