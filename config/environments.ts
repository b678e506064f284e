import { validRange } from "semver";
import { z } from "zod";
import { dnsLabel, STAGES } from "./common";
import { retentionDays } from "./logs";

/** Kubernetes quantities as ResourceQuota and LimitRange accept them (`500m`, `2`, `4Gi`). */
const cpuQuantity = z.string().regex(/^([0-9]+m|[0-9]+(\.[0-9]+)?)$/, {
  message: "a CPU quantity such as '500m' or '2'",
});
const memoryQuantity = z.string().regex(/^[0-9]+(Ki|Mi|Gi|Ti)?$/, {
  message: "a memory quantity such as '512Mi' or '4Gi'",
});

const quotaSchema = z
  .object({
    requestsCpu: cpuQuantity.describe("Sum of CPU requests of every pod in the namespace, e.g. '4' or '500m'."),
    requestsMemory: memoryQuantity.describe("Sum of memory requests of every pod in the namespace, e.g. '8Gi'."),
    limitsCpu: cpuQuantity.describe("Sum of CPU limits of every pod in the namespace."),
    limitsMemory: memoryQuantity.describe("Sum of memory limits of every pod in the namespace."),
    pods: z.number().int().min(1).max(1000).describe("Most pods the namespace may run."),
  })
  .strict();

const limitRangeSchema = z
  .object({
    defaultRequestCpu: cpuQuantity.describe("CPU request of a container that sets none."),
    defaultRequestMemory: memoryQuantity.describe("Memory request of a container that sets none."),
    defaultLimitCpu: cpuQuantity.describe("CPU limit of a container that sets none."),
    defaultLimitMemory: memoryQuantity.describe("Memory limit of a container that sets none."),
  })
  .strict();

const databaseSchema = z
  .object({
    engineVersion: z.enum(["15", "16", "17"]).default("17").describe("PostgreSQL major version."),
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, { message: "lowercase letters, digits and '_', starting with a letter, at most 63" })
      .default("app")
      .describe("Database name inside the server."),
    storageGb: z.number().int().min(20).max(16384).describe("Allocated storage in GB."),
    maxStorageGb: z.number().int().min(20).max(65536).optional().describe("Ceiling of storage autoscaling in GB (AWS). Default: twice storageGb."),
    highAvailability: z.boolean().describe("A standby in another zone (Multi-AZ on AWS, zone-redundant HA on Azure). Production requires it."),
    backupRetentionDays: z.number().int().min(1).max(35).describe("Days of point-in-time recovery. Production keeps 35."),
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, { message: "an RDS instance class such as db.t4g.medium" })
      .describe("RDS instance class (AWS), e.g. db.t4g.medium."),
    skuName: z
      .string()
      .regex(/^(B|GP|MO)_Standard_[A-Za-z0-9_]+$/, { message: "a Flexible Server SKU such as GP_Standard_D2ds_v5" })
      .describe("Flexible Server SKU (Azure), e.g. GP_Standard_D2ds_v5."),
  })
  .strict();

/**
 * Flux evaluates ranges with Masterminds/semver, which also separates AND
 * terms with commas; node-semver reads the same grammar with spaces.
 */
function isSemverRange(range: string): boolean {
  return range.trim().length > 0 && validRange(range.replace(/,/g, " ")) !== null;
}

/** Stack parts every cloud has besides its environments (stacks/aws.ts, stacks/azure.ts, stacks/app.ts). */
export const SHARED_STACK_PARTS = ["platform", "addons", "bootstrap"] as const;

/** Namespaces the platform itself runs in; an environment cannot take them over. */
export const RESERVED_NAMESPACES = ["default", "flux-system", "external-secrets", "knative-serving", "kourier-system", "knative-operator", "monitoring", "cert-manager", "external-dns"] as const;

const environmentName = dnsLabel(20).refine(
  (name) => !(RESERVED_NAMESPACES as readonly string[]).includes(name) && !name.startsWith("kube-"),
  { message: `names a platform namespace; environments cannot be named ${RESERVED_NAMESPACES.join(", ")} or kube-*` },
);

/** A directory of the GitOps repository: relative, no way out of it. */
const gitopsPath = z
  .string()
  .regex(/^(\.\/)?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/?$/, { message: "a relative directory of the GitOps repository such as deploy/develop" })
  .refine((path) => !path.split("/").includes(".."), { message: "must not leave the GitOps repository: remove '..'" });

const imagePolicySchema = z
  .object({
    semverRange: z
      .string()
      .refine(isSemverRange, { message: "a semver range such as '>=1.0.0 <2.0.0', '^1.4.0' or '1.x'" })
      .default(">=1.0.0")
      .describe("Semver range of image tags the environment follows, e.g. '>=1.0.0 <2.0.0'."),
  })
  .strict();

/** Alert thresholds an environment can tighten or relax (see docs/alerting.md). */
const environmentAlertsSchema = z
  .object({
    errorRatio: z
      .number()
      .gt(0, { message: "a ratio between 0 and 1 exclusive, such as 0.05" })
      .lt(1, { message: "a ratio between 0 and 1 exclusive, such as 0.05" })
      .default(0.05)
      .describe("Share of a service's requests answered 5xx, over 5 minutes, that alerts."),
    migrationTimeoutMinutes: z.number().int().min(1).max(1440).default(30).describe("How long a migration Job may run before it counts as stuck."),
    uptimeChecks: z.boolean().optional().describe("Check the applications' health endpoints from outside the cloud. Default: on in production."),
  })
  .strict();

export const environmentSchema = z
  .object({
    name: environmentName.describe("Environment name; also its namespace and part of its stack ids."),
    stage: z.enum(STAGES).optional().describe("What kind of environment this is: develop, staging or production. Default: the name, when it is one of them."),
    applications: z.array(dnsLabel(30)).optional().describe("Applications delivered to this environment. Default: every configured application."),
    quota: quotaSchema.describe("ResourceQuota of the environment's namespace."),
    limitRange: limitRangeSchema.describe("LimitRange defaults for containers that set no requests or limits."),
    database: databaseSchema.describe("The environment's PostgreSQL server."),
    logRetentionDays: retentionDays.optional().describe("Days Loki keeps this environment's logs. Default: logs.retentionDays."),
    imagePolicy: imagePolicySchema.default({ semverRange: ">=1.0.0" }).describe("Which image tags Flux image automation deploys."),
    gitops: z
      .object({
        branch: z.string().min(1).optional().describe("Branch this environment syncs from. Default: gitops.branch."),
        path: gitopsPath.optional().describe("Directory of the GitOps repository. Default: deploy/<name>."),
      })
      .strict()
      .default({})
      .describe("Where in the GitOps repository this environment's manifests live."),
    scaleToZero: z
      .object({
        gracePeriodSeconds: z.number().int().min(0).max(3600).default(30).describe("Seconds the last pod stays after traffic stops."),
        retentionPeriodSeconds: z.number().int().min(0).max(3600).default(0).describe("Seconds the last pod is kept at least, once scaled from zero."),
      })
      .strict()
      .default({ gracePeriodSeconds: 30, retentionPeriodSeconds: 0 })
      .describe("Knative scale-to-zero timings, used where minimum scale is 0."),
    alerts: environmentAlertsSchema
      .default({ errorRatio: 0.05, migrationTimeoutMinutes: 30 })
      .describe("Alert thresholds of this environment: 5xx ratio and how long a migration may run."),
  })
  .strict();

export const applicationSchema = z
  .object({
    name: dnsLabel(30).describe("Application name: its registry repository and image automation are named after it."),
    healthPath: z
      .string()
      .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, { message: "an absolute URL path such as /api/v1/health" })
      .max(255)
      .default("/healthz")
      .describe("Path of the health endpoint that external uptime checks request over HTTPS."),
  })
  .strict();

export const gitopsSchema = z
  .object({
    url: z.url({ protocol: /^(https|ssh)$/, message: "an https:// or ssh:// Git URL" }).describe("https:// or ssh:// URL of the GitOps repository."),
    branch: z.string().min(1).default("main").describe("Branch every environment syncs from unless it names its own."),
    secretName: dnsLabel(63).default("gitops-auth").describe("Secret in each environment namespace holding the Git credentials."),
    automationBranch: z.string().min(1).optional().describe("Branch image automation commits new tags to. Default: branch."),
    interval: z.string().regex(/^[0-9]+(s|m|h)$/, { message: "a duration such as 1m or 10m" }).default("1m").describe("How often Flux fetches the repository, e.g. 1m."),
  })
  .strict();
