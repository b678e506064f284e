import { CloudwatchEventConnection } from "@cdktf/provider-aws/lib/cloudwatch-event-connection";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { fittedName } from "../common/naming";
import { IN_CLUSTER, registryWebhookServiceAccount, type RegistryWebhookAccess } from "../contract";
import type { AwsEksCluster } from "./eks-cluster";
import { ServiceRole, trustService, type PolicyStatement } from "./iam";

/**
 * The EventBridge event pattern of a successful image push to any of the
 * given ECR repositories (by repository name, `<prefix>/<app>`): the events
 * ECR sends as `ECR Image Action`. A failed push, a delete, or a push to
 * another repository does not match.
 */
export function ecrPushEventPattern(repositoryNames: readonly string[]): Record<string, unknown> {
  if (repositoryNames.length === 0) throw new Error("an ECR push event pattern needs at least one repository name");
  return {
    source: ["aws.ecr"],
    "detail-type": ["ECR Image Action"],
    detail: { "action-type": ["PUSH"], result: ["SUCCESS"], "repository-name": [...repositoryNames] },
  };
}

/** What the role an EventBridge rule's target assumes needs to call one API destination. */
export function invokeApiDestinationStatements(apiDestinationArn: string): PolicyStatement[] {
  return [{ Effect: "Allow", Action: "events:InvokeApiDestination", Resource: [apiDestinationArn] }];
}

/** The AWS CLI image the webhook Job runs (`aws` and a shell); Pod Identity credentials need 2.15 or later. */
export const AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.27.0";

/** Names of one environment's push notification pieces, all derived from one base name. */
export function pushEventNames(base: string) {
  return { rule: `${base}-image-pushes`, connection: `${base}-flux`, apiDestination: `${base}-flux-receiver`, targetId: "flux-receiver" } as const;
}

/**
 * The webhook Job's script: creates the API destination at the Receiver's URL
 * or updates it, then points the rule's one target at it. The URL is read from
 * a file and never printed; ids and names come from the environment.
 */
export const API_DESTINATION_SCRIPT = [
  "set -eu",
  'url=$(cat "$WEBHOOK_URL_FILE")',
  'if aws events describe-api-destination --name "$API_DESTINATION" >/dev/null 2>&1; then',
  '  aws events update-api-destination --name "$API_DESTINATION" --connection-arn "$CONNECTION_ARN" --invocation-endpoint "$url" --http-method POST --invocation-rate-limit-per-second 1 >/dev/null',
  "else",
  '  aws events create-api-destination --name "$API_DESTINATION" --connection-arn "$CONNECTION_ARN" --invocation-endpoint "$url" --http-method POST --invocation-rate-limit-per-second 1 >/dev/null',
  "fi",
  'arn=$(aws events describe-api-destination --name "$API_DESTINATION" --query ApiDestinationArn --output text)',
  'aws events put-targets --rule "$RULE" --targets "Id=$TARGET_ID,Arn=$arn,RoleArn=$INVOKE_ROLE_ARN" >/dev/null',
  'echo "API destination $API_DESTINATION is the target of $RULE"',
  "",
].join("\n");

export interface PushEventArns {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/**
 * What the webhook Job's role may do: create, update and read its one API
 * destination (which names its one connection), and put targets on its one
 * rule, only that destination and only with the invoke role, which it may
 * pass to EventBridge alone.
 */
export function apiDestinationManagerStatements(names: ReturnType<typeof pushEventNames>, arns: PushEventArns, connectionArn: string, invokeRoleArn: string): PolicyStatement[] {
  const events = `arn:${arns.partition}:events:${arns.region}:${arns.account}`;
  const destination = `${events}:api-destination/${names.apiDestination}`;
  return [
    {
      Sid: "OwnApiDestination",
      Effect: "Allow",
      Action: ["events:CreateApiDestination", "events:UpdateApiDestination", "events:DescribeApiDestination"],
      // Created as `<name>`, then known as `<name>/<uuid>`; the connection it uses is named too.
      Resource: [destination, `${destination}/*`, connectionArn],
    },
    {
      Sid: "OwnRuleTarget",
      Effect: "Allow",
      Action: "events:PutTargets",
      Resource: `${events}:rule/${names.rule}`,
      Condition: { ArnLike: { "events:TargetArn": `${destination}/*` } },
    },
    {
      Sid: "PassInvokeRole",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: invokeRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": "events.amazonaws.com" } },
    },
  ];
}

export interface EcrPushEventsProps {
  /** The cluster's name: with the environment's, the base of every name. */
  readonly clusterName: string;
  readonly environment: string;
  /** The environment's application repositories, `<prefix>/<app>`. */
  readonly repositoryNames: readonly string[];
  readonly region: string;
  /** The cluster the environment's Job runs in, which carries its role. */
  readonly eks: AwsEksCluster;
}

/**
 * ECR has no webhooks: EventBridge sends one environment's successful pushes
 * to its `generic` Receiver through an API destination. Terraform owns what
 * holds no secret: the rule, the connection (whose API key names the
 * environment: the generic Receiver checks none, its URL path is its
 * credential), the role EventBridge invokes the destination with, and the
 * Job's role. The API destination, whose endpoint is that URL, and the
 * rule's target, which names the destination's generated ARN, are the Job's.
 */
export class EcrPushEvents extends Construct {
  readonly rule: CloudwatchEventRule;
  readonly connection: CloudwatchEventConnection;
  readonly invokeRole: ServiceRole;
  readonly managerRole: ServiceRole;
  readonly access: RegistryWebhookAccess;

  constructor(scope: Construct, id: string, props: EcrPushEventsProps) {
    super(scope, id);
    // Rule, connection and destination names and role names are at most 64 characters.
    const base = fittedName(48, props.clusterName, props.environment);
    const names = pushEventNames(base);
    this.rule = new CloudwatchEventRule(this, "rule", {
      name: names.rule,
      description: `Successful image pushes to the repositories of ${props.environment}, to its Flux Receiver`,
      eventPattern: JSON.stringify(ecrPushEventPattern(props.repositoryNames)),
    });
    this.connection = new CloudwatchEventConnection(this, "connection", {
      name: names.connection,
      description: `The Flux Receiver of ${props.environment}: the URL path is the credential, the key only names the environment`,
      authorizationType: "API_KEY",
      authParameters: { apiKey: { key: "X-Platform-Environment", value: props.environment } },
    });
    // The rule's ARN carries the partition and the account, with no data source to read them.
    const arns: PushEventArns = { partition: Fn.element(Fn.split(":", this.rule.arn), 1), region: props.region, account: Fn.element(Fn.split(":", this.rule.arn), 4) };
    this.invokeRole = new ServiceRole(this, "invoke-role", {
      name: `${base}-flux-invoke`,
      trust: trustService("events.amazonaws.com"),
      statements: invokeApiDestinationStatements(`arn:${arns.partition}:events:${arns.region}:${arns.account}:api-destination/${names.apiDestination}/*`),
    });
    const serviceAccount = registryWebhookServiceAccount(props.environment);
    this.managerRole = props.eks.grantToServiceAccount(
      `webhook-${props.environment}`,
      IN_CLUSTER.registryWebhooks.namespace,
      serviceAccount,
      apiDestinationManagerStatements(names, arns, this.connection.arn, this.invokeRole.arn),
    );
    this.access = {
      // The Pod Identity association carries the role.
      identity: { serviceAccountAnnotations: {}, podLabels: {} },
      image: AWS_CLI_IMAGE,
      script: API_DESTINATION_SCRIPT,
      env: {
        AWS_REGION: props.region,
        API_DESTINATION: names.apiDestination,
        CONNECTION_ARN: this.connection.arn,
        RULE: names.rule,
        TARGET_ID: names.targetId,
        INVOKE_ROLE_ARN: this.invokeRole.arn,
      },
    };
  }
}
