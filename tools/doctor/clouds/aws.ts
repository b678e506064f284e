import { GetBackupPlanCommand, ListRecoveryPointsByBackupVaultCommand, type RecoveryPointByBackupVault } from "@aws-sdk/client-backup";
import { DescribeAlarmsCommand, GetMetricStatisticsCommand, type Datapoint, type Dimension } from "@aws-sdk/client-cloudwatch";
import { DescribeClusterCommand } from "@aws-sdk/client-eks";
import { DescribeDBInstancesCommand } from "@aws-sdk/client-rds";
import { GetHostedZoneCommand, ListResourceRecordSetsCommand, type ResourceRecordSet } from "@aws-sdk/client-route-53";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import { cronIntervalHours, pemOf, requireOutput, type BackupState, type CloudProbe, type ClusterOutputs, type DatabaseState, type HeartbeatState, type RecoveryTier, type ZoneRecord, type ZoneState } from "../cloud";
import type { ClusterEndpoint } from "../kubernetes";
import type { ClusterTarget, EnvironmentTarget } from "../targets";
import { withTimeout } from "../timeout";

/** The one method of an AWS SDK v3 client the doctor uses; tests answer it with recorded responses. */
export interface AwsClient {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

export interface AwsClients {
  readonly eks: AwsClient;
  readonly route53: AwsClient;
  /** CloudWatch in the cluster's region (database metrics). */
  readonly cloudwatch: AwsClient;
  /** CloudWatch where the heartbeat alarm lives (us-east-1, beside Route 53's health check metrics). */
  readonly alarms: AwsClient;
  readonly rds: AwsClient;
  readonly backup: AwsClient;
  credentials(): Promise<AwsCredentialIdentity>;
}

/** RDS states in which the instance still serves connections. */
const SERVING = new Set(["available", "backing-up", "modifying", "storage-optimization", "configuring-enhanced-monitoring", "configuring-log-exports", "upgrading", "maintenance", "renaming", "rebooting"]);

/** An EKS bearer token is a presigned STS GetCallerIdentity for the cluster, valid 60 s for the handshake (aws-iam-authenticator's format). */
export async function eksToken(clusterName: string, region: string, credentials: AwsCredentialIdentity, now?: Date): Promise<string> {
  const hostname = `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({ credentials, region, service: "sts", sha256: Sha256 });
  const signed = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host: hostname, "x-k8s-aws-id": clusterName },
    },
    { expiresIn: 60, ...(now ? { signingDate: now } : {}) },
  );
  const query = new URLSearchParams(signed.query as Record<string, string>).toString();
  return `k8s-aws-v1.${Buffer.from(`https://${hostname}/?${query}`).toString("base64url")}`;
}

/** Route 53 returns names with a trailing dot and `*` as `\052`. */
function route53Name(name: string): string {
  return name.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))).replace(/\.$/, "").toLowerCase();
}

function route53Record(set: ResourceRecordSet): ZoneRecord {
  const values = set.AliasTarget?.DNSName ? [set.AliasTarget.DNSName.replace(/\.$/, "").toLowerCase()] : (set.ResourceRecords ?? []).map((r) => r.Value ?? "");
  return { name: route53Name(set.Name ?? ""), type: set.Type ?? "", values };
}

/** The probe of one EKS cluster, from the outputs of `aws-platform` and `aws-<env>-data`. */
export function awsProbe(target: ClusterTarget, outputs: ClusterOutputs, clients: AwsClients, timeoutMs: number, now: () => Date = () => new Date()): CloudProbe {
  const platform = target.stacks.platform;
  const clusterName = requireOutput(outputs.platform, platform, "cluster_name");
  const region = target.region!;
  const call = <T = any>(client: AwsClient, command: any): Promise<T> =>
    withTimeout(command.constructor.name.replace(/Command$/, ""), timeoutMs, (abortSignal) => client.send(command, { abortSignal }));
  const dataOutput = (environment: EnvironmentTarget, name: string) => requireOutput(outputs.data[environment.name], environment.stacks.data, name);

  return {
    cloud: "aws",
    clusterName,

    async endpoint(): Promise<ClusterEndpoint> {
      const { cluster } = await call(clients.eks, new DescribeClusterCommand({ name: clusterName }));
      if (cluster?.status !== "ACTIVE") throw new Error(`EKS cluster ${clusterName} is ${cluster?.status ?? "not found"}`);
      const token = await eksToken(clusterName, region, await clients.credentials());
      return { name: clusterName, server: cluster.endpoint, caPem: pemOf(cluster.certificateAuthority.data), token };
    },

    async zone(): Promise<ZoneState> {
      const zoneId = requireOutput(outputs.platform, platform, "dns_zone_id");
      const zone = await call(clients.route53, new GetHostedZoneCommand({ Id: zoneId }));
      const records: ZoneRecord[] = [];
      let start: { StartRecordName?: string; StartRecordType?: any; StartRecordIdentifier?: string } = {};
      // At most 300 record sets a page; a platform zone holds tens.
      for (let page = 0; page < 50; page++) {
        const answer = await call(clients.route53, new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, ...start }));
        records.push(...(answer.ResourceRecordSets ?? []).map(route53Record));
        if (!answer.IsTruncated) break;
        start = { StartRecordName: answer.NextRecordName, StartRecordType: answer.NextRecordType, StartRecordIdentifier: answer.NextRecordIdentifier };
      }
      return {
        zone: route53Name(zone.HostedZone?.Name ?? target.zoneName),
        nameServers: (zone.DelegationSet?.NameServers ?? []).map((ns: string) => ns.replace(/\.$/, "").toLowerCase()),
        records,
        source: `Route 53 zone ${zoneId}`,
      };
    },

    async heartbeat(minutes: number): Promise<HeartbeatState> {
      const alarmName = requireOutput(outputs.platform, platform, "heartbeat_alarm");
      const { MetricAlarms } = await call(clients.alarms, new DescribeAlarmsCommand({ AlarmNames: [alarmName] }));
      const alarm = MetricAlarms?.[0];
      if (!alarm) throw new Error(`no CloudWatch alarm ${alarmName} in us-east-1`);
      const end = now();
      const { Datapoints } = await call<{ Datapoints?: Datapoint[] }>(
        clients.alarms,
        new GetMetricStatisticsCommand({
          Namespace: alarm.Namespace,
          MetricName: alarm.MetricName,
          Dimensions: alarm.Dimensions as Dimension[],
          StartTime: new Date(end.getTime() - minutes * 60_000),
          EndTime: end,
          Period: 60,
          Statistics: ["Sum"],
        }),
      );
      const delivered = (Datapoints ?? []).filter((d) => (d.Sum ?? 0) > 0);
      const count = delivered.reduce((sum, d) => sum + (d.Sum ?? 0), 0);
      const last = delivered.map((d) => new Date(d.Timestamp!)).sort((a, b) => b.getTime() - a.getTime())[0];
      const dimensions = (alarm.Dimensions ?? []).map((d: Dimension) => `${d.Name}=${d.Value}`).join(",");
      return {
        received: count > 0,
        measured: `${count} Watchdog deliveries`,
        windowMinutes: minutes,
        lastAt: last,
        alarmState: alarm.StateValue,
        source: `${alarm.Namespace} ${alarm.MetricName} (${dimensions}), alarm ${alarmName}`,
      };
    },

    async database(environment: EnvironmentTarget): Promise<DatabaseState> {
      const identifier = dataOutput(environment, "database_identifier");
      const { DBInstances } = await call(clients.rds, new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
      const instance = DBInstances?.[0];
      if (!instance) throw new Error(`no RDS instance ${identifier}`);
      const end = now();
      const { Datapoints } = await call<{ Datapoints?: Datapoint[] }>(
        clients.cloudwatch,
        new GetMetricStatisticsCommand({
          Namespace: "AWS/RDS",
          MetricName: "DatabaseConnections",
          Dimensions: [{ Name: "DBInstanceIdentifier", Value: identifier }],
          StartTime: new Date(end.getTime() - 15 * 60_000),
          EndTime: end,
          Period: 300,
          Statistics: ["Maximum"],
        }),
      );
      const maxima = (Datapoints ?? []).map((d) => d.Maximum ?? 0);
      return {
        state: instance.DBInstanceStatus ?? "unknown",
        up: SERVING.has(instance.DBInstanceStatus ?? ""),
        endpoint: instance.Endpoint?.Address,
        connections: maxima.length > 0 ? Math.max(...maxima) : undefined,
        createdAt: instance.InstanceCreateTime ? new Date(instance.InstanceCreateTime) : undefined,
        source: `RDS ${identifier}`,
      };
    },

    async backups(environment: EnvironmentTarget): Promise<BackupState> {
      const vault = dataOutput(environment, "backup_vault");
      const points: RecoveryPointByBackupVault[] = [];
      let token: string | undefined;
      // Newest first is not guaranteed: read the last 35 days, a page at a time.
      const since = new Date(now().getTime() - 35 * 24 * 3600_000);
      for (let page = 0; page < 20; page++) {
        const answer = await call(clients.backup, new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: vault, ByCreatedAfter: since, NextToken: token }));
        points.push(...(answer.RecoveryPoints ?? []));
        token = answer.NextToken;
        if (!token) break;
      }
      const completed = points.filter((p) => p.Status === "COMPLETED" && p.CreationDate);
      // The rules of the plans that made them name the tiers.
      const planIds = [...new Set(completed.map((p) => p.CreatedBy?.BackupPlanId).filter((id): id is string => Boolean(id)))];
      const rules = new Map<string, { name: string; intervalHours: number }>();
      for (const planId of planIds) {
        const { BackupPlan } = await call(clients.backup, new GetBackupPlanCommand({ BackupPlanId: planId }));
        for (const rule of BackupPlan?.Rules ?? []) rules.set(rule.RuleId, { name: rule.RuleName, intervalHours: cronIntervalHours(rule.ScheduleExpression ?? "") });
      }
      const tiers = new Map<string, RecoveryTier>([...rules.values()].map((rule) => [rule.name, { tier: rule.name, intervalHours: rule.intervalHours, count: 0 }]));
      for (const point of completed) {
        const rule = rules.get(point.CreatedBy?.BackupRuleId ?? "") ?? { name: "other", intervalHours: 24 };
        const created = new Date(point.CreationDate!);
        const tier = tiers.get(rule.name);
        tiers.set(rule.name, {
          tier: rule.name,
          intervalHours: rule.intervalHours,
          count: (tier?.count ?? 0) + 1,
          latest: !tier?.latest || created > tier.latest ? created : tier.latest,
        });
      }
      return { tiers: [...tiers.values()].sort((a, b) => a.intervalHours - b.intervalHours), source: `AWS Backup vault ${vault}` };
    },
  };
}

/** Real clients with the default credential chain; every request is bounded by `timeoutMs`. */
export async function awsClients(region: string, timeoutMs: number): Promise<AwsClients> {
  const [{ BackupClient }, { CloudWatchClient }, { EKSClient }, { RDSClient }, { Route53Client }] = await Promise.all([
    import("@aws-sdk/client-backup"),
    import("@aws-sdk/client-cloudwatch"),
    import("@aws-sdk/client-eks"),
    import("@aws-sdk/client-rds"),
    import("@aws-sdk/client-route-53"),
  ]);
  const options = { region, maxAttempts: 2, requestHandler: { requestTimeout: timeoutMs, connectionTimeout: Math.min(timeoutMs, 5000) } };
  const eks = new EKSClient(options);
  return {
    eks,
    route53: new Route53Client(options),
    cloudwatch: new CloudWatchClient(options),
    alarms: new CloudWatchClient({ ...options, region: "us-east-1" }),
    rds: new RDSClient(options),
    backup: new BackupClient(options),
    credentials: () => eks.config.credentials(),
  };
}
