import { z } from "zod";
import { dnsLabel, email, ipv4Cidr, kubernetesVersion } from "./common";

const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/, {
  message: "an AWS region such as eu-west-1",
});

const iamPrincipalArn = z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)\/[\w+=,.@\/-]{1,512}$/, {
  message: "an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins",
});

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const nodeGroupSchema = z
  .object({
    name: dnsLabel(30),
    instanceTypes: z
      .array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { message: "an EC2 instance type such as m7i.large" }))
      .min(1),
    architecture: z.enum(["x86_64", "arm64"]).default("x86_64"),
    capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
    minSize: z.number().int().min(0).max(450),
    maxSize: z.number().int().min(1).max(450),
    desiredSize: z.number().int().min(0).max(450),
    diskSizeGb: z.number().int().min(20).max(16384).default(50),
    labels: z.record(z.string(), z.string()).default({}),
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
        /** Days the VPC flow logs are kept in CloudWatch Logs. @default 365 */
        flowLogRetentionDays: z
          .number()
          .int()
          .refine((days) => LOG_RETENTION_DAYS.includes(days), {
            message: `one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
          })
          .default(365),
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
        nodeGroups: z.array(nodeGroupSchema).min(1, { message: "at least one node group" }),
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
export type AwsNodeGroupConfig = z.infer<typeof nodeGroupSchema>;
