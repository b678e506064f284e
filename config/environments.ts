import { validRange } from "semver";
import { z } from "zod";
import { dnsLabel, STAGES } from "./common";

/** Kubernetes quantities as ResourceQuota and LimitRange accept them (`500m`, `2`, `4Gi`). */
const cpuQuantity = z.string().regex(/^([0-9]+m|[0-9]+(\.[0-9]+)?)$/, {
  message: "a CPU quantity such as '500m' or '2'",
});
const memoryQuantity = z.string().regex(/^[0-9]+(Ki|Mi|Gi|Ti)?$/, {
  message: "a memory quantity such as '512Mi' or '4Gi'",
});

const quotaSchema = z
  .object({
    requestsCpu: cpuQuantity,
    requestsMemory: memoryQuantity,
    limitsCpu: cpuQuantity,
    limitsMemory: memoryQuantity,
    pods: z.number().int().min(1).max(1000),
  })
  .strict();

const limitRangeSchema = z
  .object({
    defaultRequestCpu: cpuQuantity,
    defaultRequestMemory: memoryQuantity,
    defaultLimitCpu: cpuQuantity,
    defaultLimitMemory: memoryQuantity,
  })
  .strict();

const databaseSchema = z
  .object({
    /** PostgreSQL major version. */
    engineVersion: z.enum(["15", "16", "17"]).default("17"),
    /** Database name inside the server. */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, { message: "lowercase letters, digits and '_', starting with a letter, at most 63" })
      .default("app"),
    storageGb: z.number().int().min(20).max(16384),
    /** Storage autoscaling ceiling (AWS). @default twice storageGb */
    maxStorageGb: z.number().int().min(20).max(65536).optional(),
    highAvailability: z.boolean(),
    /** Point-in-time recovery window. */
    backupRetentionDays: z.number().int().min(1).max(35),
    /** RDS instance class. */
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, { message: "an RDS instance class such as db.t4g.medium" }),
    /** Azure Flexible Server SKU. */
    skuName: z
      .string()
      .regex(/^(B|GP|MO)_Standard_[A-Za-z0-9_]+$/, { message: "a Flexible Server SKU such as GP_Standard_D2ds_v5" }),
  })
  .strict();

/**
 * Flux evaluates ranges with Masterminds/semver, which also separates AND
 * terms with commas; node-semver reads the same grammar with spaces.
 */
function isSemverRange(range: string): boolean {
  return range.trim().length > 0 && validRange(range.replace(/,/g, " ")) !== null;
}

/** Namespaces the platform itself runs in; an environment cannot take them over. */
export const RESERVED_NAMESPACES = ["default", "flux-system", "external-secrets", "knative-serving", "kourier-system", "knative-operator", "monitoring", "cert-manager"] as const;

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
    /** Semver range production follows, e.g. `>=1.0.0 <2.0.0`. */
    semverRange: z
      .string()
      .refine(isSemverRange, { message: "a semver range such as '>=1.0.0 <2.0.0', '^1.4.0' or '1.x'" })
      .default(">=1.0.0"),
  })
  .strict();

/** Alert thresholds an environment can tighten or relax (see docs/alerting.md). */
const environmentAlertsSchema = z
  .object({
    /** Share of a service's requests answered 5xx, over 5 minutes, that alerts. */
    errorRatio: z.number().gt(0, { message: "a ratio between 0 and 1 exclusive, such as 0.05" }).lt(1, { message: "a ratio between 0 and 1 exclusive, such as 0.05" }).default(0.05),
    /** How long a migration Job may run before it counts as stuck. */
    migrationTimeoutMinutes: z.number().int().min(1).max(1440).default(30),
    /** Check the applications' health endpoints from outside the cloud. @default true in production */
    uptimeChecks: z.boolean().optional(),
  })
  .strict();

export const environmentSchema = z
  .object({
    /** Also the namespace name. */
    name: environmentName,
    /** What kind of environment this is. @default the name, when it is one of the stages */
    stage: z.enum(STAGES).optional(),
    /** Applications delivered to this environment. @default every configured application */
    applications: z.array(dnsLabel(30)).optional(),
    quota: quotaSchema,
    limitRange: limitRangeSchema,
    database: databaseSchema,
    imagePolicy: imagePolicySchema.default({ semverRange: ">=1.0.0" }),
    gitops: z
      .object({
        branch: z.string().min(1).optional(),
        /** @default `deploy/<name>` */
        path: gitopsPath.optional(),
      })
      .strict()
      .default({}),
    /** Knative scale-to-zero timings, used where minimum scale is 0. */
    scaleToZero: z
      .object({
        gracePeriodSeconds: z.number().int().min(0).max(3600).default(30),
        retentionPeriodSeconds: z.number().int().min(0).max(3600).default(0),
      })
      .strict()
      .default({ gracePeriodSeconds: 30, retentionPeriodSeconds: 0 }),
    alerts: environmentAlertsSchema.default({ errorRatio: 0.05, migrationTimeoutMinutes: 30 }),
  })
  .strict();

export const applicationSchema = z
  .object({
    name: dnsLabel(30),
    /** Path of the health endpoint external uptime checks request over HTTPS. */
    healthPath: z
      .string()
      .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, { message: "an absolute URL path such as /api/v1/health" })
      .max(255)
      .default("/healthz"),
  })
  .strict();

export const gitopsSchema = z
  .object({
    url: z.url({ protocol: /^(https|ssh)$/, message: "an https:// or ssh:// Git URL" }),
    branch: z.string().min(1).default("main"),
    /** Secret in each environment namespace holding the Git credentials. */
    secretName: dnsLabel(63).default("gitops-auth"),
    /** Branch image automation commits new tags to. @default branch */
    automationBranch: z.string().min(1).optional(),
    interval: z.string().regex(/^[0-9]+(s|m|h)$/, { message: "a duration such as 1m or 10m" }).default("1m"),
  })
  .strict();
