import { z } from "zod";
import { cidrSized, dnsLabel, email, kubernetesVersion, privateCidr, publicCidr } from "./common";
import { cpuQuantity, memoryQuantity } from "./quantity";
import { AWS_OTHER_PARTITION_REGIONS, AWS_REGIONS } from "./regions";
import { instanceTypeArchitecture } from "./instance-types";
import { didYouMean } from "./suggest";
import type { RawConfig } from "./schema";
import { checkPublicRanges, overlaps, parseIpv4Network } from "./cidr";

export function isAwsRegion(value: string): boolean {
  return (AWS_REGIONS as readonly string[]).includes(value);
}

/** An enum, so that editors offer the regions; the message suggests the closest one. */
const awsRegion = z.enum(AWS_REGIONS, {
  error: (issue) => {
    const partition = typeof issue.input === "string" ? AWS_OTHER_PARTITION_REGIONS[issue.input] : undefined;
    if (partition) return `is in the ${partition} partition; the platform builds ARNs, service principals and endpoints for the aws partition only: choose a region such as eu-west-1`;
    const hint = typeof issue.input === "string" ? didYouMean(issue.input, AWS_REGIONS) : "";
    return hint
      ? `not an AWS region; ${hint} (every region the program knows is in config/regions.ts)`
      : `not an AWS region; use one of ${AWS_REGIONS.join(", ")}`;
  },
});

const iamPrincipalArn = z
  .string()
  .regex(/^arn:[^:]*:iam::[0-9]{12}:(role|user)\/[\w+=,.@\/-]{1,512}$/, {
    message: "an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins",
    abort: true,
  })
  .regex(/^arn:aws:/, { message: "an ARN of the aws partition (arn:aws:...): the platform runs in commercial AWS regions only" });

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/**
 * The architecture of an EC2 instance family, from AWS's naming: a `g` among
 * the attribute letters after the generation marks Graviton (`m7g`, `c7gn`,
 * `r8gd`, `im4gn`, `g5g`); every other family runs amd64.
 */
export function familyArchitecture(family: string): Architecture {
  return instanceTypeArchitecture(family) === "arm64" ? "arm64" : "amd64";
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
    instanceTypes: z.array(instanceType).min(1, { message: "at least one instance type" }).describe("EC2 instance types of the system group, in order of preference; all of its architecture."),
    architecture: z.enum(ARCHITECTURES).default("amd64").describe("CPU architecture of the system nodes: amd64, or arm64 for Graviton types (m7g, c7g, t4g, ...)."),
    nodeCount: z
      .number()
      .int()
      .min(2, { message: "at least 2: the node autoscaler and cluster-critical add-ons run here, one replica per zone" })
      .max(20, { message: "at most 20: workloads run in nodePools, not here" })
      .default(2)
      .describe("Fixed number of system nodes, spread over the zones by EKS; two keep the controller up through a zone or node loss."),
    diskSizeGb: z.number().int().min(20).max(16384).default(50).describe("Root volume size of each system node in GB."),
  })
  .strict();

const taintSchema = z
  .object({
    key: z.string().regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/, { message: "a label-style key such as nvidia.com/gpu" }).describe("Taint key, such as nvidia.com/gpu."),
    value: z.string().max(63).optional().describe("Taint value."),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).describe("What the taint does to pods that do not tolerate it."),
  })
  .strict();

const CPU_CEILING = "a positive CPU quantity such as 64 or 500m: the pool's total CPU ceiling";
const MEMORY_CEILING = "a positive memory quantity such as 256Gi: the pool's total memory ceiling";

/**
 * One Karpenter NodePool: the instance shapes it may launch, what it may cost
 * at most (`limits`), and how eagerly it replaces nodes.
 */
const nodePoolSchema = z
  .object({
    name: dnsLabel(63).describe("NodePool name, unique in the cluster."),
    capacityTypes: z
      .array(z.enum(["spot", "on-demand"]))
      .min(1, { message: "at least one capacity type: spot, on-demand or both" })
      .describe("Capacity types the pool may launch: spot, on-demand or both (spot first when both)."),
    architectures: z
      .array(z.enum(ARCHITECTURES))
      .min(1, { message: "at least one architecture: amd64, arm64 or both" })
      .default(["amd64"])
      .describe("CPU architectures the pool may launch: amd64, arm64 or both."),
    instanceCategories: z
      .array(z.string().regex(/^[a-z]{1,4}$/, { message: "an instance category such as c, m, r or g" }))
      .min(1)
      .optional()
      .describe("EC2 instance categories (c, m, r, g, ...); set this or instanceFamilies."),
    instanceFamilies: z
      .array(z.string().regex(/^[a-z]+[0-9][a-z0-9-]*$/, { message: "an instance family such as m7i or c7g" }))
      .min(1)
      .optional()
      .describe("EC2 instance families (m7i, c7g, ...); set this or instanceCategories."),
    minInstanceGeneration: z.number().int().min(1).max(20).optional().describe("Oldest instance generation allowed with instanceCategories. Default: 5."),
    limits: z
      .object({
        cpu: cpuQuantity(CPU_CEILING, CPU_CEILING).describe("Total CPU of the pool's nodes, such as 64 or 500m."),
        memory: memoryQuantity(MEMORY_CEILING, MEMORY_CEILING).describe("Total memory of the pool's nodes, such as 256Gi."),
      })
      .strict()
      .describe("The cost ceiling: the pool launches no node that would take its total above these."),
    consolidation: z.enum(["WhenEmpty", "WhenEmptyOrUnderutilized"]).default("WhenEmptyOrUnderutilized").describe("When Karpenter removes or replaces nodes to save cost."),
    consolidateAfter: duration.default("1m").describe("How long a node must qualify before it is consolidated."),
    expireAfter: z.union([duration, z.literal("Never")]).default("720h").describe("Nodes older than this are replaced; Never keeps them."),
    terminationGracePeriod: duration
      .default("24h")
      .describe("How long a node may drain before Karpenter deletes its remaining pods, PodDisruptionBudgets notwithstanding; ends drains a budget blocks forever."),
    disruptionBudget: z
      .string()
      .regex(/^(100|[0-9]{1,2})%$|^[0-9]+$/, { message: "a node count such as 2 or a percentage such as 10%" })
      .default("10%")
      .describe("Nodes that may be disrupted at once, as a count (2) or a share (10%)."),
    labels: z.record(z.string(), z.string()).default({}).describe("Kubernetes labels on the pool's nodes."),
    taints: z.array(taintSchema).default([]).describe("Taints on the pool's nodes, e.g. for GPU pools."),
    weight: z.number().int().min(1).max(100).optional().describe("Preference among pools that fit a pod: higher first."),
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
        vpcCidr: cidrSized(16, 20, "prefix length must be between /16 and /20 (AWS allows /16 at most; subnets need /20 or larger)").describe("VPC address range, /16 to /20; subnets are carved from it per zone."),
        natGateways: z.enum(["single", "per-zone"]).default("single").describe("One NAT gateway per zone (per-zone, resilient) or one shared (single, cheaper)."),
        flowLogRetentionDays: z
          .number()
          .int()
          .refine((days) => LOG_RETENTION_DAYS.includes(days), {
            message: `one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
          })
          .meta({ enum: LOG_RETENTION_DAYS })
          .default(365)
          .describe("Days the VPC flow logs are kept in CloudWatch Logs."),
      })
      .strict()
      .describe("The VPC."),
    cluster: z
      .object({
        version: kubernetesVersion.describe("Kubernetes minor version."),
        serviceCidr: privateCidr(12, 24, "EKS accepts a service range between /12 and /24", "EKS takes a service range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
          .default("172.20.0.0/16")
          .describe("Service IP range inside the cluster, /12 to /24; must not overlap the VPC."),
        publicAccessCidrs: z
          .array(publicCidr("the API endpoint", "list your networks or leave empty for private only"))
          .default([])
          .describe("Networks allowed to reach the public API endpoint; empty turns the public endpoint off. Never 0.0.0.0/0."),
        adminPrincipalArns: z.array(iamPrincipalArn).default([]).describe("IAM roles or users granted cluster-admin through access entries."),
        bootstrapCreatorAdmin: z
          .boolean()
          .optional()
          .describe("Whether the identity that creates the cluster is made its admin; read when the cluster is created, ignored afterwards. Default: true, false with ci (the CI roles are granted explicitly)."),
        systemNodeGroup: systemNodeGroupSchema.describe("The managed node group the node autoscaler and the cluster-critical add-ons run on: on-demand, tainted CriticalAddonsOnly, fixed size."),
        nodePoolAmiVersion: z
          .string()
          .regex(/^v[0-9]{8}$/, { message: "an EKS AMI release such as v20260714 (docs/capacity.md)" })
          .describe("Release of the EKS-optimized Amazon Linux 2023 AMI the node pools launch (al2023@<release>), such as v20260714; changing it replaces every node within the pools' disruption budgets."),
        nodePools: z
          .array(nodePoolSchema)
          .min(1, { message: "at least one node pool: the system group takes no workloads" })
          .describe("Karpenter NodePools for workloads: instance shapes, capacity types and the cost ceiling (limits)."),
        nodeGroups: z.unknown().optional().describe("Replaced by systemNodeGroup and nodePools; accepted only to explain the move (docs/capacity.md)."),
        fargateNamespaces: z
          .array(dnsLabel(63))
          .max(5, { message: "a Fargate profile takes at most 5 selectors, one per namespace" })
          .default([])
          .describe("Namespaces whose pods run on Fargate instead of nodes."),
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
        bucket: z
          .string()
          .regex(/^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'", abort: true })
          .regex(/^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(-s3alias|--ol-s3|--x-s3|--table-s3|\.mrap)$)/, {
            message: "S3 reserves the prefixes xn--, sthree-, amzn-s3-demo- and the suffixes -s3alias, --ol-s3, --x-s3, --table-s3, .mrap",
          })
          .regex(/^(?![0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$)/, { message: "an S3 bucket name cannot be formatted as an IP address" })
          .describe("S3 bucket name."),
        region: awsRegion.describe("Region of the state bucket."),
        keyPrefix: z.string().regex(/^[A-Za-z0-9!_.*'()\/-]*$/).default("platform").describe("Prefix of each stack's state key: <keyPrefix>/<stack>.tfstate."),
        kmsKeyId: z.string().optional().describe("KMS key encrypting the state objects. Default: the key aws-bootstrap creates with ci, else the bucket's encryption."),
        bootstrapStateInBackend: z
          .boolean()
          .optional()
          .describe("With ci: true once aws-bootstrap's own state is moved from its local file into this bucket (docs/bootstrap.md). Default: false."),
      })
      .strict()
      .optional()
      .describe("An S3 bucket for Terraform state, with S3-native locking; local state when absent."),
  })
  .strict();

export type AwsConfig = z.infer<typeof awsSchema>;
export type AwsSystemNodeGroupConfig = z.infer<typeof systemNodeGroupSchema>;
export type AwsNodePoolConfig = z.infer<typeof nodePoolSchema>;

// The rules across the fields above, run after each field's own schema.

type Path = (string | number)[];
type Report = (path: Path, input: unknown, message: string) => void;

/** The AWS cloud's rules across its fields: zones and region, ranges, capacity. */
export function checkAws(config: RawConfig, report: Report): void {
  const aws = config.clouds.aws;
  if (!aws) return;
  const at = (...rest: Path): Path => ["clouds", "aws", ...rest];
  // A zone is its region's name plus a letter.
  const regionOf = (zone: string) => zone.slice(0, -1);
  const zoneRegions = new Set(aws.availabilityZones.map(regionOf));
  const [onlyRegion] = zoneRegions;
  if (zoneRegions.size === 1 && onlyRegion !== aws.region && isAwsRegion(aws.region)) {
    // Every zone agrees: the region is what is wrong.
    report(at("region"), aws.region, `the availability zones are all in ${onlyRegion}: set region to ${onlyRegion}, or list zones of ${aws.region}`);
  }
  const zones = new Set<string>();
  aws.availabilityZones.forEach((zone, i) => {
    if (zoneRegions.size > 1 && isAwsRegion(aws.region) && regionOf(zone) !== aws.region) {
      report(at("availabilityZones", i), zone, `zone is not in region ${aws.region}`);
    }
    if (zones.has(zone)) report(at("availabilityZones", i), zone, "duplicate availability zone");
    zones.add(zone);
  });
  const vpc = parseIpv4Network(aws.network.vpcCidr);
  const services = parseIpv4Network(aws.cluster.serviceCidr);
  if (vpc && services && overlaps(vpc, services)) {
    report(at("cluster", "serviceCidr"), aws.cluster.serviceCidr, `overlaps the VPC ${aws.network.vpcCidr}`);
  }
  checkPublicRanges(aws.cluster.publicAccessCidrs, at("cluster", "publicAccessCidrs"), "the API endpoint", report, "list your networks or leave empty for private only");
  checkAwsCapacity(aws, at, report);
}

/** Where the cost ceiling and the shapes of EKS capacity are set: the system group and the node pools. */
function checkAwsCapacity(aws: NonNullable<RawConfig["clouds"]["aws"]>, at: (...rest: Path) => Path, report: Report): void {
  const { cluster } = aws;
  if (cluster.nodeGroups !== undefined) {
    report(
      at("cluster", "nodeGroups"),
      cluster.nodeGroups,
      "nodeGroups was replaced: move the group the add-ons run on to systemNodeGroup (instanceTypes, nodeCount) and describe workload capacity as nodePools (capacityTypes, instanceFamilies or instanceCategories, limits); see docs/capacity.md, 'Migrating from nodeGroups'",
    );
  }
  const system = cluster.systemNodeGroup;
  system.instanceTypes.forEach((type, i) => {
    const family = type.split(".")[0];
    if (familyArchitecture(family) !== system.architecture) {
      report(at("cluster", "systemNodeGroup", "instanceTypes", i), type, `is ${familyArchitecture(family)}, but architecture is ${system.architecture}: list ${system.architecture} instance types or change architecture`);
    }
  });
  const poolNames = new Map<string, number>();
  cluster.nodePools.forEach((pool, i) => {
    const here = (...rest: Path): Path => at("cluster", "nodePools", i, ...rest);
    const previous = poolNames.get(pool.name);
    if (previous !== undefined) report(here("name"), pool.name, `duplicate node pool name; nodePools[${previous}] is already named '${pool.name}'`);
    poolNames.set(pool.name, i);
    if (pool.instanceCategories === undefined && pool.instanceFamilies === undefined) {
      report(here(), pool.name, "set instanceCategories (such as [c, m, r]) or instanceFamilies (such as [m7i, m7g]): a pool without either may launch any instance type");
    } else if (pool.instanceCategories !== undefined && pool.instanceFamilies !== undefined) {
      report(here("instanceFamilies"), pool.instanceFamilies, "set instanceCategories or instanceFamilies, not both");
    }
    if (pool.minInstanceGeneration !== undefined && pool.instanceCategories === undefined) {
      report(here("minInstanceGeneration"), pool.minInstanceGeneration, "applies to instanceCategories only; instanceFamilies already name the generation");
    }
    const familyArchitectures = new Set<string>();
    (pool.instanceFamilies ?? []).forEach((family, j) => {
      const architecture = familyArchitecture(family);
      familyArchitectures.add(architecture);
      if (!pool.architectures.includes(architecture)) {
        report(here("instanceFamilies", j), family, `is an ${architecture} family, but architectures are [${pool.architectures.join(", ")}]: add ${architecture} or drop the family`);
      }
    });
    if (pool.instanceFamilies !== undefined) {
      pool.architectures.forEach((architecture, j) => {
        if (!familyArchitectures.has(architecture)) {
          report(here("architectures", j), architecture, `no family in instanceFamilies [${pool.instanceFamilies!.join(", ")}] is ${architecture}: add one (${architecture === "arm64" ? "such as m7g" : "such as m7i"}) or drop ${architecture}`);
        }
      });
    }
  });
}
