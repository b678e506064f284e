import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { Construct } from "constructs";
import { ServiceRole, trustService } from "./iam";
import type { EncryptionKey } from "./kms-key";

export interface VpcFlowLogsProps {
  readonly name: string;
  readonly vpcId: string;
  /** Days CloudWatch Logs keeps the records. */
  readonly retentionDays: number;
  /** Encrypts the log group; its policy is given CloudWatch Logs, for this log group only. */
  readonly key: EncryptionKey;
}

/**
 * Every accepted and rejected connection of a VPC, in a KMS-encrypted
 * CloudWatch Logs group: what an incident review reads first, searchable
 * with Logs Insights.
 */
export class VpcFlowLogs extends Construct {
  readonly logGroup: CloudwatchLogGroup;
  readonly flowLog: FlowLog;

  constructor(scope: Construct, id: string, props: VpcFlowLogsProps) {
    super(scope, id);
    const { key } = props;
    const logGroupName = `/vpc/${props.name}/flow-logs`;

    key.grantLogGroup("CloudWatchLogsFlowLogs", logGroupName);

    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: logGroupName,
      retentionInDays: props.retentionDays,
      kmsKeyId: key.arn,
      // CloudWatch Logs checks the key policy when the group is created.
      dependsOn: [key.policy],
    });

    const role = new ServiceRole(this, "role", {
      name: `${props.name}-flow-logs`,
      trust: trustService("vpc-flow-logs.amazonaws.com"),
      statements: [
        {
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: `${this.logGroup.arn}:*`,
        },
        { Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
      ],
    });

    this.flowLog = new FlowLog(this, "flow-log", {
      vpcId: props.vpcId,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: this.logGroup.arn,
      iamRoleArn: role.arn,
      // One-minute records: the ten-minute default hides short-lived connections' timing.
      maxAggregationInterval: 60,
      tags: { Name: props.name },
      dependsOn: role.dependables,
    });
  }
}
