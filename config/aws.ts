import { z } from "zod";
import { dnsLabel, email, ipv4Cidr, kubernetesVersion } from "./common";

const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/, {
  message: "an AWS region such as eu-west-1",
});

const iamPrincipalArn = z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)\/[\w+=,.@\/-]{1,512}$/, {
  message: "an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins",
});

/**
 * The architecture of an EC2 instance family, from AWS's naming: a `g` among
 * the attribute letters after the generation marks Graviton (`m7g`, `c7gn`,
 * `r8gd`, `im4gn`, `g5g`); every other family runs amd64.
 */
export function familyArchitecture(family: string): Architecture {
  const attributes = /^[a-z]+[0-9]+([a-z-]*)/.exec(family)?.[1] ?? "";
  return attributes.includes("g") ? "arm64" : "amd64";
}

const instanceType = z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { message: "an EC2 instance type such as m7i.large" });

/** CPU architectures as Kubernetes names them (`kubernetes.io/arch`). */
export const ARCHITECTURES = ["amd64", "arm64"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** Karpenter's duration syntax: `30s`, `1m`, `720h`, `1h30m`. */
const duration = z.string().regex(/^([0-9]+(s|m|h))+$/, { message: "a duration such as 30s, 15m or 720h" });

/**
 * The managed node group the Karpenter controller and the cluster-critical
 * add-ons (CoreDNS, the EBS CSI controller, metrics-server) run on. It is
 * tainted `CriticalAddonsOnly`, so workloads never land there, and it has a
 * fixed size: nothing autoscales it, and Karpenter never manages the nodes
 * it runs on.
 */
const systemNodeGroupSchema = z
  .object({
    instanceTypes: z.array(instanceType).min(1, { message: "at least one instance type" }),
    architecture: z.enum(ARCHITECTURES).default("amd64"),
    /** Spread over the zones by EKS; two keep the controller up through a zone or node loss. */
    nodeCount: z
      .number()
      .int()
      .min(2, { message: "at least 2: the node autoscaler and cluster-critical add-ons run here, one replica per zone" })
      .max(20, { message: "at most 20: workloads run in nodePools, not here" })
      .default(2),
    diskSizeGb: z.number().int().min(20).max(16384).default(50),
  })
  .strict();

const taintSchema = z
  .object({
    key: z.string().regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/, { message: "a label-style key such as nvidia.com/gpu" }),
    value: z.string().max(63).optional(),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
  })
  .strict();

/**
 * One Karpenter NodePool: the instance shapes it may launch, what it may cost
 * at most (`limits`), and how eagerly it replaces nodes.
 */
const nodePoolSchema = z
  .object({
    name: dnsLabel(63),
    capacityTypes: z
      .array(z.enum(["spot", "on-demand"]))
      .min(1, { message: "at least one capacity type: spot, on-demand or both" }),
    architectures: z.array(z.enum(ARCHITECTURES)).min(1, { message: "at least one architecture: amd64, arm64 or both" }).default(["amd64"]),
    /** EC2 instance categories (`c`, `m`, `r`, `g`...); set this or instanceFamilies. */
    instanceCategories: z.array(z.string().regex(/^[a-z]{1,4}$/, { message: "an instance category such as c, m, r or g" })).min(1).optional(),
    /** EC2 instance families (`m7i`, `c7g`...); set this or instanceCategories. */
    instanceFamilies: z.array(z.string().regex(/^[a-z]+[0-9][a-z0-9-]*$/, { message: "an instance family such as m7i or c7g" })).min(1).optional(),
    /** Oldest instance generation allowed with instanceCategories. @default 5 */
    minInstanceGeneration: z.number().int().min(1).max(20).optional(),
    /** The cost ceiling: the pool launches no node that would take its total above these. */
    limits: z.object({ cpu: z.string(), memory: z.string() }).strict(),
    consolidation: z.enum(["WhenEmpty", "WhenEmptyOrUnderutilized"]).default("WhenEmptyOrUnderutilized"),
    consolidateAfter: duration.default("1m"),
    /** Nodes older than this are replaced, so they pick up new AMIs. */
    expireAfter: z.union([duration, z.literal("Never")]).default("720h"),
    /** Nodes that may be disrupted at once, as a count (`2`) or a share (`10%`). */
    disruptionBudget: z.string().regex(/^(100|[0-9]{1,2})%$|^[0-9]+$/, { message: "a node count such as 2 or a percentage such as 10%" }).default("10%"),
    labels: z.record(z.string(), z.string()).default({}),
    taints: z.array(taintSchema).default([]),
    /** Preference among pools that fit a pod: higher first. */
    weight: z.number().int().min(1).max(100).optional(),
  })
  .strict();

export const awsSchema = z
  .object({
    region: awsRegion,
    /** Zone names, not looked up, so that synth and plan need no credentials. */
    availabilityZones: z.array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$/, { message: "a zone name such as eu-west-1a" })).min(2, {
      message: "at least 2 availability zones",
    }).max(6, { message: "at most 6 availability zones" }),
    network: z
      .object({
        vpcCidr: ipv4Cidr,
        /** One NAT gateway per zone (resilient) or a single shared one (cheaper). */
        natGateways: z.enum(["single", "per-zone"]).default("single"),
      })
      .strict(),
    cluster: z
      .object({
        version: kubernetesVersion,
        /** Service IP range inside the cluster; must not overlap the VPC. */
        serviceCidr: ipv4Cidr.default("172.20.0.0/16"),
        /** CIDRs allowed to reach the public API endpoint; empty turns the public endpoint off. */
        publicAccessCidrs: z.array(ipv4Cidr).default([]),
        /** IAM principals granted cluster-admin through access entries. */
        adminPrincipalArns: z.array(iamPrincipalArn).default([]),
        /** Whether the identity that creates the cluster is made its admin. */
        bootstrapCreatorAdmin: z.boolean().default(true),
        systemNodeGroup: systemNodeGroupSchema,
        nodePools: z.array(nodePoolSchema).min(1, { message: "at least one node pool: the system group takes no workloads" }),
        /** Replaced by systemNodeGroup and nodePools; accepted only to explain the move. */
        nodeGroups: z.unknown().optional(),
        /** Namespaces whose pods run on Fargate instead of nodes. */
        fargateNamespaces: z.array(dnsLabel(63)).default([]),
      })
      .strict(),
    registry: z
      .object({
        /** Tagged images kept per repository. */
        keepLastImages: z.number().int().min(1).max(1000).default(30),
        /** Days before untagged images expire. */
        untaggedExpiryDays: z.number().int().min(1).max(365).default(7),
      })
      .strict()
      .default({ keepLastImages: 30, untaggedExpiryDays: 7 }),
    backup: z
      .object({
        /** Days the first backup of each month is kept. @default 7 years */
        monthlyRetentionDays: z.number().int().min(366).max(36500).default(2555),
        /** Receivers of backup job failure notifications. */
        notificationEmails: z.array(email).default([]),
      })
      .strict()
      .default({ monthlyRetentionDays: 2555, notificationEmails: [] }),
    /** An S3 bucket for Terraform state; local state when absent. */
    stateBackend: z
      .object({
        bucket: z.string().regex(/^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
          message: "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'",
        }),
        region: awsRegion,
        keyPrefix: z.string().regex(/^[A-Za-z0-9!_.*'()\/-]*$/).default("platform"),
        kmsKeyId: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type AwsConfig = z.infer<typeof awsSchema>;
export type AwsSystemNodeGroupConfig = z.infer<typeof systemNodeGroupSchema>;
export type AwsNodePoolConfig = z.infer<typeof nodePoolSchema>;
