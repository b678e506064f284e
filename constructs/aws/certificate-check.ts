import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { zipSync, type Zippable } from "fflate";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { AssetType, Fn, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { boundedName } from "../common/naming";
import { CLOUD_ALARMS, runbookUrl } from "../common/runbook";
import type { UptimeTarget } from "../common/uptime-targets";
import { ServiceRole, trustService } from "./iam";
import type { EncryptionKey } from "./kms-key";

/** How the certificate check decides; docs/dns-and-tls.md quotes it. */
export const CERTIFICATE_CHECK = {
  /** Days a certificate must still be valid for; cert-manager renews 30 days ahead. */
  minimumDaysLeft: 7,
  scheduleMinutes: 5,
  /** Consecutive failed checks before the alarm. */
  evaluationPeriods: 2,
  /** The Lambda runtime the check's code is written for. */
  runtime: "nodejs22.x",
  // A line per host every five minutes: a year costs next to nothing.
  logRetentionDays: 365,
} as const;

/** Directory of the check's code, zipped as the Lambda function's package. */
export const CERTIFICATE_CHECK_CODE = path.join(__dirname, "certificate-check");

/** A fixed time for every entry, so that the same code always zips to the same bytes. */
const ZIP_ENTRY_TIME = new Date("2020-01-01T00:00:00Z");

/**
 * The files of a directory as a Lambda deployment package, zipped in
 * process: the same files make the same bytes, so `source_code_hash`
 * changes only with the code. Written once per content under the system's
 * temporary directory, where synth copies it into the stack's assets.
 */
export function lambdaPackage(dir: string): string {
  const files: Zippable = {};
  for (const name of readdirSync(dir).sort()) files[name] = [readFileSync(path.join(dir, name)), { mtime: ZIP_ENTRY_TIME }];
  const zip = zipSync(files, { level: 9 });
  const digest = createHash("sha256").update(zip).digest("hex").slice(0, 16);
  const cacheDir = path.join(tmpdir(), "platform-kit-lambda");
  const file = path.join(cacheDir, `${path.basename(dir)}-${digest}.zip`);
  if (!existsSync(file)) {
    mkdirSync(cacheDir, { recursive: true });
    // Another synth may be writing the same bytes: write aside, then rename.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, zip);
    renameSync(partial, file);
  }
  return file;
}

export interface CertificateCheckProps {
  /** Prefix of every name. */
  readonly name: string;
  readonly provider: AwsProvider;
  readonly targets: readonly UptimeTarget[];
  /** Encrypts the check's log group. */
  readonly key: EncryptionKey;
  /** Where the alarms notify, on alarm and on recovery. */
  readonly topicArn: string;
}

/**
 * Route 53's HTTPS health checks do not validate certificates: a staging,
 * expired or misnamed certificate passes them while every browser refuses it.
 * This checks each uptime target's certificate as a browser would, every five
 * minutes from a Lambda function, and alarms per host when it is untrusted,
 * names another host, or has less than a week left.
 */
export class CertificateCheck extends Construct {
  readonly function: LambdaFunction;
  readonly alarms: CloudwatchMetricAlarm[] = [];
  /** The CloudWatch namespace of the check's metrics. */
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: CertificateCheckProps) {
    super(scope, id);
    const { provider, key } = props;
    const functionName = boundedName(64, props.name, "certificate-check");
    this.namespace = `${props.name}/CertificateCheck`;
    const logGroupName = `/aws/lambda/${functionName}`;

    key.grantLogGroup("CloudWatchLogsCertificateCheck", logGroupName);
    const logGroup = new CloudwatchLogGroup(this, "logs", {
      provider,
      name: logGroupName,
      retentionInDays: CERTIFICATE_CHECK.logRetentionDays,
      kmsKeyId: key.arn,
      dependsOn: [key.policy],
    });

    // Writing its log is all it does: the metrics are read from the log. IAM
    // is global, so the stack's default provider creates the role.
    const role = new ServiceRole(this, "role", {
      name: boundedName(64, props.name, "certificate-check"),
      trust: trustService("lambda.amazonaws.com"),
      statements: [{ Sid: "WriteOwnLog", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroup.arn}:*` }],
    });

    const code = new TerraformAsset(this, "code", { path: lambdaPackage(CERTIFICATE_CHECK_CODE), type: AssetType.FILE });
    this.function = new LambdaFunction(this, "function", {
      provider,
      functionName,
      description: "Checks that the exposed applications' certificates are trusted and not about to expire",
      role: role.arn,
      runtime: CERTIFICATE_CHECK.runtime,
      handler: "index.handler",
      filename: code.path,
      sourceCodeHash: Fn.filebase64sha256(code.path),
      memorySize: 128,
      timeout: 60,
      loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
      dependsOn: [logGroup, ...role.dependables],
    });

    const schedule = new CloudwatchEventRule(this, "schedule", {
      provider,
      name: boundedName(64, props.name, "certificate-check"),
      description: `Runs ${functionName} every ${CERTIFICATE_CHECK.scheduleMinutes} minutes`,
      scheduleExpression: `rate(${CERTIFICATE_CHECK.scheduleMinutes} minutes)`,
    });
    new CloudwatchEventTarget(this, "schedule-target", {
      provider,
      rule: schedule.name,
      arn: this.function.arn,
      input: JSON.stringify({
        namespace: this.namespace,
        minimumDaysLeft: CERTIFICATE_CHECK.minimumDaysLeft,
        targets: props.targets.map((target) => ({ host: target.host, path: target.path })),
      }),
    });
    new LambdaPermission(this, "schedule-invokes", {
      provider,
      statementId: "ScheduledCertificateCheck",
      action: "lambda:InvokeFunction",
      functionName: this.function.functionName,
      principal: "events.amazonaws.com",
      sourceArn: schedule.arn,
    });

    for (const target of props.targets) {
      const slug = `${target.environment}-${target.application}`;
      this.alarms.push(
        new CloudwatchMetricAlarm(this, `${slug}-alarm`, {
          provider,
          alarmName: `${props.name}-${slug}-certificate`,
          alarmDescription: `The certificate of https://${target.host} is untrusted, names another host, or expires within ${CERTIFICATE_CHECK.minimumDaysLeft} days; the log group ${logGroupName} says which. Runbook: ${runbookUrl(CLOUD_ALARMS.uptimeCheckFailing)}`,
          namespace: this.namespace,
          metricName: "CertificateValid",
          dimensions: { Host: target.host },
          statistic: "Minimum",
          period: CERTIFICATE_CHECK.scheduleMinutes * 60,
          evaluationPeriods: CERTIFICATE_CHECK.evaluationPeriods,
          threshold: 1,
          comparisonOperator: "LessThanThreshold",
          // A check that stopped running has checked nothing.
          treatMissingData: "breaching",
          alarmActions: [props.topicArn],
          okActions: [props.topicArn],
        }),
      );
    }
  }
}
