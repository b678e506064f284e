import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { Ec2Tag } from "@cdktf/provider-aws/lib/ec2-tag";
import { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { Construct } from "constructs";
import type { AwsNodePoolConfig } from "../../config";
import { PREVIEW_NODE_POOL } from "../../config/previews";
import { boundedName } from "../common/naming";
import type { DedicatedNodes, NodeAutoscaler } from "../contract";
import type { KubernetesObject } from "../kubernetes/manifests-release";
import { CRITICAL_ADDONS_TAINT, SYSTEM_NODE_GROUP, type AwsEksCluster } from "./eks-cluster";
import { policyDocument, ServiceRole, trustService, type PolicyStatement } from "./iam";
import { controllerStatements } from "./karpenter-controller-policy";
import { KARPENTER_DISCOVERY_TAG } from "./network";

/** Where the controller runs and the service account its Pod Identity association names. */
export const KARPENTER = { namespace: "kube-system", serviceAccount: "karpenter", releaseName: "karpenter" } as const;

/** The one EC2NodeClass every NodePool launches from. */
export const NODE_CLASS_NAME = "default";

/** EC2 events Karpenter drains nodes ahead of, by EventBridge rule. */
export const INTERRUPTION_EVENTS = {
  "scheduled-change": { source: ["aws.health"], "detail-type": ["AWS Health Event"] },
  "spot-interruption": { source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] },
  rebalance: { source: ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"] },
  "instance-state-change": { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"] },
} as const;

export interface KarpenterProps {
  readonly eks: AwsEksCluster;
  /** The EKS cluster's name, known at synth: IAM conditions and discovery tags carry it. */
  readonly clusterName: string;
  readonly region: string;
  readonly nodePools: AwsNodePoolConfig[];
  /** Release of the EKS-optimized AL2023 AMI every pool launches, such as `v20260714`. */
  readonly amiVersion: string;
  /** Tags Karpenter puts on the instances, volumes and launch templates it creates. @default - none */
  readonly tags?: Record<string, string>;
  /** Root volume of every node, in GiB. @default 50 */
  readonly rootVolumeGb?: number;
  /**
   * The previews' namespace quota, when the cluster hosts pull-request
   * previews: they get a spot pool of their own, twice the quota's size.
   * @default - no preview pool
   */
  readonly previewQuota?: { readonly requestsCpu: string; readonly requestsMemory: string };
}

/** The preview pool's name, and the label and taint its nodes carry: only previews select and tolerate them. */
export const PREVIEW_POOL = { name: PREVIEW_NODE_POOL, key: "platform.kit/pool", value: "preview" } as const;

/** Twice a quantity, in its own unit: `4` is `8`, `500m` is `1000m`, `8Gi` is `16Gi`. */
function twice(quantity: string): string {
  const match = /^([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)$/.exec(quantity);
  if (!match) throw new Error(`cannot double the quantity ${quantity}`);
  return `${Number(match[1]) * 2}${match[2]}`;
}

/**
 * The previews' NodePool: spot only (a preview survives an interruption as a
 * restart), general-purpose instances, emptied and removed quickly, and a
 * ceiling of twice the previews' quota (room for daemon sets and packing).
 * Its taint keeps every other pod off; the previews' syncs add the matching
 * node selector and toleration to each preview's pods.
 */
export function previewNodePool(quota: NonNullable<KarpenterProps["previewQuota"]>): AwsNodePoolConfig {
  return {
    name: PREVIEW_POOL.name,
    capacityTypes: ["spot"],
    architectures: ["amd64"],
    instanceCategories: ["c", "m", "r"],
    limits: { cpu: twice(quota.requestsCpu), memory: twice(quota.requestsMemory) },
    consolidation: "WhenEmptyOrUnderutilized",
    consolidateAfter: "1m",
    expireAfter: "168h",
    terminationGracePeriod: "1h",
    disruptionBudget: "50%",
    labels: { [PREVIEW_POOL.key]: PREVIEW_POOL.value },
    taints: [{ key: PREVIEW_POOL.key, value: PREVIEW_POOL.value, effect: "NoSchedule" }],
  };
}

/**
 * What Karpenter needs from AWS, set up the way its EKS guide does with Pod
 * Identity: a controller role whose every write is conditioned on this
 * cluster's tags, a node role admitted by an EC2_LINUX access entry, an
 * encrypted interruption queue fed by EventBridge, and discovery tags on the
 * node subnets and security group. It also computes the controller's chart
 * values and the EC2NodeClass and NodePools for the add-ons stack.
 */
export class Karpenter extends Construct {
  readonly controllerRole: ServiceRole;
  /** The controller role's policy (karpenter-controller-policy.ts). */
  readonly controllerPolicy: PolicyStatement[];
  readonly nodeRole: ServiceRole;
  readonly queue: SqsQueue;
  readonly rules: CloudwatchEventRule[];
  /** Chart, values and custom resources for the add-ons stack, through the platform contract. */
  readonly nodeAutoscaler: NodeAutoscaler;
  /** What previews' pods select and tolerate, when the cluster hosts them. */
  readonly previewNodes?: DedicatedNodes;

  constructor(scope: Construct, id: string, props: KarpenterProps) {
    super(scope, id);
    const { eks, clusterName, region } = props;
    const rootVolumeGb = props.rootVolumeGb ?? 50;

    // A role of its own, not the system group's: EKS creates the access entry
    // of a managed group's role itself, and a second entry would collide.
    const nodeRoleName = `${clusterName}-karpenter-node`;
    this.nodeRole = new ServiceRole(this, "node-role", {
      name: nodeRoleName,
      trust: trustService("ec2.amazonaws.com"),
      managedPolicies: ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"],
    });
    new EksAccessEntry(this, "node-access", { clusterName: eks.cluster.name, principalArn: this.nodeRole.arn, type: "EC2_LINUX" });

    const queueName = `${clusterName}-karpenter`;
    this.queue = new SqsQueue(this, "interruption-queue", {
      name: queueName,
      // Interruption notices are useless after the two-minute Spot warning.
      messageRetentionSeconds: 300,
      sqsManagedSseEnabled: true,
    });
    this.rules = Object.entries(INTERRUPTION_EVENTS).map(([name, pattern]) => {
      const rule = new CloudwatchEventRule(this, `rule-${name}`, {
        // EventBridge caps rule names at 64 characters.
        name: boundedName(64, clusterName, "karpenter", name),
        description: `${pattern["detail-type"][0]} events for Karpenter in ${clusterName}`,
        eventPattern: JSON.stringify(pattern),
      });
      new CloudwatchEventTarget(this, `rule-${name}-target`, { rule: rule.name, arn: this.queue.arn, targetId: "karpenter-interruption-queue" });
      return rule;
    });
    new SqsQueuePolicy(this, "interruption-queue-policy", {
      queueUrl: this.queue.url,
      policy: policyDocument(interruptionQueueStatements(this.queue.arn, this.rules.map((rule) => rule.arn))),
    });

    // The cluster security group is the one EKS gives managed nodes; Karpenter's nodes join it too.
    new Ec2Tag(this, "security-group-discovery", { resourceId: eks.clusterSecurityGroupId, key: KARPENTER_DISCOVERY_TAG, value: clusterName });

    const preview = props.previewQuota && previewNodePool(props.previewQuota);
    const nodePools = [...props.nodePools, ...(preview ? [preview] : [])];
    if (preview) {
      if (props.nodePools.some((pool) => pool.name === preview.name)) throw new Error(`aws.cluster.nodePools: '${preview.name}' is the previews' pool; name the pool otherwise`);
      this.previewNodes = {
        nodeSelector: { ...preview.labels },
        tolerations: preview.taints.map((taint) => ({ key: taint.key, operator: "Equal", value: taint.value, effect: taint.effect })),
      };
    }

    this.controllerPolicy = controllerStatements({
      clusterName,
      region,
      clusterArn: eks.cluster.arn,
      queueArn: this.queue.arn,
      nodeRoleArn: this.nodeRole.arn,
      spot: nodePools.some((pool) => pool.capacityTypes.includes("spot")),
    });
    this.controllerRole = eks.grantToServiceAccount("karpenter", KARPENTER.namespace, KARPENTER.serviceAccount, this.controllerPolicy);

    this.nodeAutoscaler = {
      chart: "karpenter",
      crdChart: "karpenter-crd",
      releaseName: KARPENTER.releaseName,
      namespace: KARPENTER.namespace,
      values: {
        serviceAccount: { name: KARPENTER.serviceAccount },
        settings: { clusterName, interruptionQueue: queueName },
        // On the system group only; the chart's own affinity already keeps it off nodes it launched.
        nodeSelector: { "eks.amazonaws.com/nodegroup": SYSTEM_NODE_GROUP },
        tolerations: [{ key: CRITICAL_ADDONS_TAINT.key, operator: "Exists" }],
        controller: { resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } } },
      },
      manifests: [nodeClass({ clusterName, nodeRoleName, rootVolumeGb, amiVersion: props.amiVersion, tags: props.tags ?? {} }), ...nodePools.map(nodePool)],
    };
  }
}

/** Only this account's interruption rules may send to the queue, and only over TLS. */
export function interruptionQueueStatements(queueArn: string, ruleArns: string[]): PolicyStatement[] {
  return [
    {
      Sid: "EventBridgeInterruptionRules",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sqs:SendMessage",
      Resource: queueArn,
      Condition: { ArnEquals: { "aws:SourceArn": ruleArns } },
    },
    {
      Sid: "DenyPlainHttp",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "sqs:*",
      Resource: queueArn,
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
  ];
}

interface NodeClassProps {
  readonly clusterName: string;
  readonly nodeRoleName: string;
  readonly rootVolumeGb: number;
  readonly amiVersion: string;
  readonly tags: Record<string, string>;
}

/** AL2023 nodes in the tagged subnets and security group, IMDSv2 only, on an encrypted gp3 root volume. */
function nodeClass(props: NodeClassProps): KubernetesObject {
  const discovered = [{ tags: { [KARPENTER_DISCOVERY_TAG]: props.clusterName } }];
  return {
    apiVersion: "karpenter.k8s.aws/v1",
    kind: "EC2NodeClass",
    metadata: { name: NODE_CLASS_NAME },
    spec: {
      role: props.nodeRoleName,
      // A pinned release, not `latest`: a new image drifts every node at
      // once, which Karpenter advises against in production. Changing the
      // release in config is the upgrade, rolled out within the pools'
      // disruption budgets.
      amiSelectorTerms: [{ alias: `al2023@${props.amiVersion}` }],
      subnetSelectorTerms: discovered,
      securityGroupSelectorTerms: discovered,
      // Hop limit 1: pods cannot reach the instance's credentials; they use Pod Identity.
      metadataOptions: { httpEndpoint: "enabled", httpProtocolIPv6: "disabled", httpPutResponseHopLimit: 1, httpTokens: "required" },
      blockDeviceMappings: [
        { deviceName: "/dev/xvda", ebs: { volumeSize: `${props.rootVolumeGb}Gi`, volumeType: "gp3", encrypted: true, deleteOnTermination: true } },
      ],
      tags: props.tags,
    },
  };
}

/** One NodePool from config: what it may launch, its cost ceiling, how it replaces nodes. */
export function nodePool(pool: AwsNodePoolConfig): KubernetesObject {
  const requirements: Record<string, unknown>[] = [
    { key: "karpenter.sh/capacity-type", operator: "In", values: [...pool.capacityTypes] },
    { key: "kubernetes.io/arch", operator: "In", values: [...pool.architectures] },
    { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
  ];
  if (pool.instanceFamilies) {
    requirements.push({ key: "karpenter.k8s.aws/instance-family", operator: "In", values: [...pool.instanceFamilies] });
  } else if (pool.instanceCategories) {
    requirements.push(
      { key: "karpenter.k8s.aws/instance-category", operator: "In", values: [...pool.instanceCategories] },
      { key: "karpenter.k8s.aws/instance-generation", operator: "Gt", values: [String((pool.minInstanceGeneration ?? 5) - 1)] },
    );
  }
  return {
    apiVersion: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: { name: pool.name },
    spec: {
      template: {
        metadata: { labels: pool.labels },
        spec: {
          nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: NODE_CLASS_NAME },
          requirements,
          taints: pool.taints.map((taint) => ({ ...taint })),
          expireAfter: pool.expireAfter,
          // A drain a PodDisruptionBudget blocks (on expiry, drift or
          // consolidation) ends after this instead of never.
          terminationGracePeriod: pool.terminationGracePeriod,
        },
      },
      limits: { cpu: pool.limits.cpu, memory: pool.limits.memory },
      disruption: {
        consolidationPolicy: pool.consolidation,
        consolidateAfter: pool.consolidateAfter,
        budgets: [{ nodes: pool.disruptionBudget }],
      },
      ...(pool.weight !== undefined ? { weight: pool.weight } : {}),
    },
  };
}
