import { z } from "zod";
import { dnsLabel, email, ipv4Cidr, kubernetesVersion } from "./common";
import { AWS_REGIONS } from "./regions";
import { didYouMean } from "./suggest";

export function isAwsRegion(value: string): boolean {
  return (AWS_REGIONS as readonly string[]).includes(value);
}

/** An enum, so that editors offer the regions; the message suggests the closest one. */
const awsRegion = z.enum(AWS_REGIONS, {
  error: (issue) => {
    const hint = typeof issue.input === "string" ? didYouMean(issue.input, AWS_REGIONS) : "";
    return hint
      ? `not an AWS region; ${hint} (every region the program knows is in config/regions.ts)`
      : `not an AWS region; use one of ${AWS_REGIONS.join(", ")}`;
  },
});

const iamPrincipalArn = z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)\/[\w+=,.@\/-]{1,512}$/, {
  message: "an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins",
});

const nodeGroupSchema = z
  .object({
    name: dnsLabel(30).describe("Node group name, unique in the cluster."),
    instanceTypes: z
      .array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { message: "an EC2 instance type such as m7i.large" }))
      .min(1)
      .describe("EC2 instance types, in order of preference; all of the node group's architecture."),
    architecture: z.enum(["x86_64", "arm64"]).default("x86_64").describe("CPU architecture of the nodes: x86_64, or arm64 for Graviton types (m7g, c7g, t4g, ...)."),
    capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND").describe("ON_DEMAND, or SPOT for interruptible, cheaper nodes."),
    minSize: z.number().int().min(0).max(450).describe("Fewest nodes. A cluster serving production needs a node group with at least 2."),
    maxSize: z.number().int().min(1).max(450).describe("Most nodes the group scales to."),
    desiredSize: z.number().int().min(0).max(450).describe("Nodes at creation, between minSize and maxSize."),
    diskSizeGb: z.number().int().min(20).max(16384).default(50).describe("Root volume size of each node in GB."),
    labels: z.record(z.string(), z.string()).default({}).describe("Kubernetes labels on the group's nodes."),
  })
  .strict();

export const awsSchema = z
  .object({
    region: awsRegion.describe("AWS region of the platform, e.g. eu-west-1."),
    availabilityZones: z.array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$/, { message: "a zone name such as eu-west-1a" })).min(2, {
      message: "at least 2 availability zones",
    }).max(6, { message: "at most 6 availability zones" })
      .describe("2 to 6 zones of the region, by name (e.g. eu-west-1a); never looked up, so synth and plan need no credentials."),
    network: z
      .object({
        vpcCidr: ipv4Cidr.describe("VPC address range, /16 to /20; subnets are carved from it per zone."),
        natGateways: z.enum(["single", "per-zone"]).default("single").describe("One NAT gateway per zone (per-zone, resilient) or one shared (single, cheaper)."),
      })
      .strict()
      .describe("The VPC."),
    cluster: z
      .object({
        version: kubernetesVersion.describe("Kubernetes minor version."),
        serviceCidr: ipv4Cidr.default("172.20.0.0/16").describe("Service IP range inside the cluster, /12 to /24; must not overlap the VPC."),
        publicAccessCidrs: z.array(ipv4Cidr).default([]).describe("Networks allowed to reach the public API endpoint; empty turns the public endpoint off. Never 0.0.0.0/0."),
        adminPrincipalArns: z.array(iamPrincipalArn).default([]).describe("IAM roles or users granted cluster-admin through access entries."),
        bootstrapCreatorAdmin: z.boolean().default(true).describe("Whether the identity that creates the cluster is made its admin."),
        nodeGroups: z.array(nodeGroupSchema).min(1, { message: "at least one node group" }).describe("Managed node groups."),
        fargateNamespaces: z.array(dnsLabel(63)).default([]).describe("Namespaces whose pods run on Fargate instead of nodes."),
      })
      .strict()
      .describe("The EKS cluster."),
    registry: z
      .object({
        keepLastImages: z.number().int().min(1).max(1000).default(30).describe("Tagged images kept per repository."),
        untaggedExpiryDays: z.number().int().min(1).max(365).default(7).describe("Days before untagged images expire."),
      })
      .strict()
      .default({ keepLastImages: 30, untaggedExpiryDays: 7 })
      .describe("ECR repositories, one per application."),
    backup: z
      .object({
        monthlyRetentionDays: z.number().int().min(366).max(36500).default(2555).describe("Days the first backup of each month is kept (7 years by default)."),
        notificationEmails: z.array(email).default([]).describe("Receivers of backup job failure notifications."),
      })
      .strict()
      .default({ monthlyRetentionDays: 2555, notificationEmails: [] })
      .describe("AWS Backup of the databases."),
    stateBackend: z
      .object({
        bucket: z.string().regex(/^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
          message: "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'",
        }).describe("S3 bucket name."),
        region: awsRegion.describe("Region of the state bucket."),
        keyPrefix: z.string().regex(/^[A-Za-z0-9!_.*'()\/-]*$/).default("platform").describe("Prefix of each stack's state key: <keyPrefix>/<stack>.tfstate."),
        kmsKeyId: z.string().optional().describe("KMS key encrypting the state objects. Default: the bucket's encryption."),
      })
      .strict()
      .optional()
      .describe("An S3 bucket for Terraform state, with S3-native locking; local state when absent."),
  })
  .strict();

export type AwsConfig = z.infer<typeof awsSchema>;
export type AwsNodeGroupConfig = z.infer<typeof nodeGroupSchema>;
