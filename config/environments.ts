import { validRange } from "semver";
import { z } from "zod";
import { branchName, dnsLabel, resourceName, STAGES } from "./common";
import { retentionDays } from "./logs";
import { applicationRepository } from "./previews";
import { cpuQuantity as cpuQuantityOf, memoryQuantity as memoryQuantityOf } from "./quantity";

/** Kubernetes quantities as ResourceQuota and LimitRange accept them (`500m`, `2`, `4Gi`). */
const cpuQuantity = cpuQuantityOf();
const memoryQuantity = memoryQuantityOf();

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

/** PostgreSQL major versions both managed services offer. */
export const POSTGRES_VERSIONS = ["15", "16", "17"] as const;
export const DEFAULT_POSTGRES_VERSION = "17";

const databaseName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, { message: "lowercase letters, digits and '_', starting with a letter, at most 63" });

/**
 * What sizes and protects a PostgreSQL server, whether an environment's own
 * or a shared one: the same fields in both places.
 */
function serverFields(owner: string) {
  return {
    engineVersion: z.enum(POSTGRES_VERSIONS).describe(`PostgreSQL major version of ${owner}. Default: ${DEFAULT_POSTGRES_VERSION}.`),
    storageGb: z.number().int().min(20).max(16384).describe(`Allocated storage of ${owner} in GB.`),
    maxStorageGb: z.number().int().min(20).max(65536).optional().describe(`Ceiling of storage autoscaling of ${owner} in GB (AWS). Default: twice storageGb.`),
    highAvailability: z.boolean().describe(`A standby of ${owner} in another zone (Multi-AZ on AWS, zone-redundant HA on Azure). Production requires it.`),
    backupRetentionDays: z.number().int().min(1).max(35).describe(`Days of point-in-time recovery of ${owner}. Production keeps 35.`),
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, { message: "an RDS instance class such as db.t4g.medium" })
      .describe(`AWS only, required when clouds.aws is set: RDS instance class of ${owner}, e.g. db.t4g.medium.`),
    skuName: z
      .string()
      .regex(/^(B|GP|MO)_Standard_[A-Za-z0-9_]+$/, { message: "a Flexible Server SKU such as GP_Standard_D2ds_v5" })
      .describe(`Azure only, required when clouds.azure is set: Flexible Server SKU of ${owner}, e.g. GP_Standard_D2ds_v5.`),
  };
}

/** Fields that size a server: an environment on a shared server leaves them to the server. */
export const SERVER_SIZE_FIELDS = ["engineVersion", "storageGb", "maxStorageGb", "instanceClass", "skuName"] as const;
/** Fields a server of its own cannot do without, whatever the clouds. */
export const REQUIRED_SERVER_FIELDS = ["storageGb", "highAvailability", "backupRetentionDays"] as const;

const ownServer = serverFields("its own server");

const databaseSchema = z
  .object({
    server: resourceName(20)
      .optional()
      .describe("Name of a databaseServers entry this environment's database lives on. Default: a server of the environment's own, sized by the fields below."),
    name: databaseName
      .optional()
      .describe("Database name inside the server; on a shared server also the name of the environment's role. Default: app on a server of its own, the environment name (with _ for -) on a shared one."),
    engineVersion: ownServer.engineVersion.optional(),
    storageGb: ownServer.storageGb.optional(),
    maxStorageGb: ownServer.maxStorageGb,
    highAvailability: ownServer.highAvailability
      .optional()
      .describe(
        "A standby in another zone (Multi-AZ on AWS, zone-redundant HA on Azure). Production requires it. On a shared server: what this environment requires of the server.",
      ),
    backupRetentionDays: ownServer.backupRetentionDays
      .optional()
      .describe("Days of point-in-time recovery. Production keeps 35. On a shared server: the least this environment requires of the server."),
    instanceClass: ownServer.instanceClass.optional(),
    skuName: ownServer.skuName.optional(),
    passwordVersion: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Shared server only: raising it generates a new password for the environment's role and sets it on the server. Default: 1."),
  })
  .strict();

/**
 * One PostgreSQL server several environments share, each with a database and
 * a role of its own on it (docs/environments.md, Shared database servers).
 */
const sharedServer = serverFields("the shared server");

export const databaseServerSchema = z
  .object({
    name: resourceName(20).describe("Server name: environments[].database.server names it; its stack is <cloud>-database-<name>."),
    ...sharedServer,
    engineVersion: sharedServer.engineVersion.default(DEFAULT_POSTGRES_VERSION),
    instanceClass: sharedServer.instanceClass.optional(),
    skuName: sharedServer.skuName.optional(),
    allowProductionOnShared: z
      .boolean()
      .default(false)
      .describe("Let a production environment share this server with other environments. Synth warns about the trade-off."),
  })
  .strict();

/**
 * Flux evaluates ranges with Masterminds/semver, which also separates AND
 * terms with commas; node-semver reads the same grammar with spaces.
 */
function isSemverRange(range: string): boolean {
  return range.trim().length > 0 && validRange(range.replace(/,/g, " ")) !== null;
}

/**
 * The grammar of a semver range as a regular expression, for the JSON Schema:
 * comparators (`>=1.0.0`, `^1.4`, `~1.2.3`, `1.x`, `*`) joined by spaces or
 * commas, hyphen ranges (`1.2.3 - 2.0.0`), alternatives joined by `||`.
 */
const PART = "(0|[1-9][0-9]*|[xX*])";
const VERSION = `[v=]?${PART}(\\.${PART}(\\.${PART}(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?)?)?`;
const COMPARATOR = `((<=|>=|<|>|=|\\^|~>?)\\s*)?${VERSION}`;
const COMPARATOR_SET = `(${VERSION}\\s+-\\s+${VERSION}|${COMPARATOR}((\\s*,\\s*|\\s+)${COMPARATOR})*)`;
const SEMVER_RANGE = new RegExp(`^\\s*${COMPARATOR_SET}(\\s*\\|\\|\\s*${COMPARATOR_SET})*\\s*$`);
const SEMVER_MESSAGE = "a semver range such as '>=1.0.0 <2.0.0', '^1.4.0' or '1.x'";

/** Stack parts every cloud has besides its environments (stacks/aws.ts, stacks/azure.ts, stacks/app.ts). */
export const SHARED_STACK_PARTS = ["platform", "addons", "bootstrap"] as const;

/** The stack part of a shared database server: `<cloud>-database-<name>`. */
export const databaseServerStackPart = (server: string): string => `database-${server}`;

/** Namespaces the platform itself runs in; an environment cannot take them over. */
export const RESERVED_NAMESPACES = ["default", "flux-system", "external-secrets", "knative-serving", "kourier-system", "knative-operator", "monitoring", "cert-manager", "external-dns", "database-setup"] as const;

const environmentName = resourceName(20).regex(new RegExp(`^(?!(${RESERVED_NAMESPACES.join("|")})$)(?!kube-)`), {
  message: `names a platform namespace; environments cannot be named ${RESERVED_NAMESPACES.join(", ")} or kube-*`,
});

/** A directory of the GitOps repository: relative, no way out of it. */
const gitopsPath = z
  .string()
  .regex(/^(\.\/)?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/?$/, { message: "a relative directory of the GitOps repository such as deploy/develop", abort: true })
  .regex(/^(?!(.*\/)?\.\.(\/|$))/, { message: "must not leave the GitOps repository: remove '..'" });

const imagePolicySchema = z
  .object({
    semverRange: z
      .string()
      .regex(SEMVER_RANGE, { message: SEMVER_MESSAGE, abort: true })
      .refine(isSemverRange, { message: SEMVER_MESSAGE })
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
    database: databaseSchema.describe(
      "The environment's PostgreSQL database: on a server of its own (storageGb, highAvailability and backupRetentionDays required, instanceClass with AWS, skuName with Azure), or on a shared server (server).",
    ),
    logRetentionDays: retentionDays.optional().describe("Days Loki keeps this environment's logs. Default: logs.retentionDays."),
    imagePolicy: imagePolicySchema.default({ semverRange: ">=1.0.0" }).describe("Which image tags Flux image automation deploys."),
    gitops: z
      .object({
        branch: branchName.optional().describe("Branch this environment syncs from. Default: gitops.branch."),
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

/** Days of point-in-time restore Azure's operational backup of object storage keeps. */
export const OPERATIONAL_BACKUP_DAYS = 30;

/** Request methods both S3 and Azure Blob accept in a CORS rule. */
export const CORS_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"] as const;
/** Azure Blob takes at most five CORS rules per storage account. */
export const MAX_CORS_RULES = 5;

/** A browser origin: scheme and host, no path; plain http only for localhost. */
const origin = z
  .string()
  .regex(/^(https:\/\/[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|http:\/\/localhost)(:[0-9]{1,5})?$/, {
    message: "an origin such as https://web.apps.example.com (https, no path or wildcard), or http://localhost:3000",
  });
const headerName = z.string().regex(/^([A-Za-z0-9-]+|\*)$/, { message: "a header name such as Content-Type, or *" });

const corsRuleSchema = z
  .object({
    origins: z.array(origin).min(1).max(64).describe("Origins whose pages may call the storage directly, e.g. https://web.apps.example.com."),
    methods: z.array(z.enum(CORS_METHODS)).min(1).describe("Methods those pages may use."),
    headers: z.array(headerName).default(["*"]).describe("Request headers those pages may send."),
    exposeHeaders: z.array(headerName).default(["ETag"]).describe("Response headers their scripts may read (ETag completes multipart uploads)."),
    maxAgeSeconds: z.number().int().min(0).max(86400).default(3600).describe("Seconds a browser may cache the answer to its preflight request."),
  })
  .strict();

const objectStorageSchema = z
  .object({
    versioning: z.boolean().default(false).describe("Keep earlier versions of overwritten and deleted objects."),
    noncurrentVersionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .describe("Delete an earlier version this many days after it was replaced. Needs versioning. Default: earlier versions are kept."),
    cors: z
      .array(corsRuleSchema)
      .max(MAX_CORS_RULES)
      .default([])
      .describe("CORS rules for browsers that upload or download directly (presigned URLs on AWS, user delegation SAS on Azure). Default: none."),
    backup: z
      .boolean()
      .default(false)
      .describe("Production only: back the objects up (AWS Backup with the environment's plan; Azure Blob operational backup). Needs versioning."),
  })
  .strict();

export const applicationSchema = z
  .object({
    name: dnsLabel(30).describe("Application name: its registry repository, image automation and service account app-<name> are named after it."),
    healthPath: z
      .string()
      .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, { message: "an absolute URL path such as /api/v1/health" })
      .max(255)
      .default("/healthz")
      .describe("Path of the health endpoint that external uptime checks request over HTTPS."),
    objectStorage: objectStorageSchema
      .optional()
      .describe("A private bucket (AWS S3) or container (Azure Blob) in every environment the application runs in, for its service account alone. Default: none."),
    repository: applicationRepository.optional().describe("The application's GitHub repository: whose pull requests are previewed (previews). Default: none."),
    previews: z.boolean().default(false).describe("Deploy the application's labelled pull requests as previews (needs the top-level previews and repository)."),
  })
  .strict();

/**
 * The first label of every environment's webhook host, `hooks.<environment domain>`:
 * with receivers on, no application may be named so, as its route would take the host.
 */
export const WEBHOOK_HOST_LABEL = "hooks";

export const gitopsSchema = z
  .object({
    url: z
      .url({ protocol: /^(https|ssh)$/, message: "an https:// or ssh:// Git URL" })
      .regex(/^(https|ssh):\/\/[^/\s]+/, { message: "an https:// or ssh:// Git URL", abort: true })
      .regex(/^[\x21-\x7e]+$/, { message: "printable ASCII only: a look-alike or invisible character would point Flux at another host or repository" })
      .describe("https:// or ssh:// URL of the GitOps repository."),
    branch: branchName.default("main").describe("Branch every environment syncs from unless it names its own."),
    secretName: dnsLabel(63).default("gitops-auth").describe("Secret in each environment namespace holding the Git credentials."),
    automationBranch: branchName.optional().describe("Branch image automation commits new tags to. Default: branch."),
    interval: z.string().regex(/^[0-9]+(s|m|h)$/, { message: "a duration such as 1m or 10m" }).default("1m").describe("How often Flux fetches the repository, e.g. 1m."),
    receivers: z
      .object({
        git: z.boolean().default(false).describe("A github Receiver in each environment namespace: a push to the GitOps repository reconciles the environment's GitRepository at once."),
        registry: z.boolean().default(false).describe("A Receiver in each environment namespace for the registry's push events: a new image rescans the environment's ImageRepositories at once."),
        tokenVersion: z.int().min(1).default(1).describe("Version of the generated webhook tokens: raise it to rotate every token (the webhook URLs change with them)."),
      })
      .strict()
      .default({ git: false, registry: false, tokenVersion: 1 })
      .describe(`Flux webhook Receivers, so a push reconciles in seconds; polling at interval stays as the safety net. The webhooks arrive at https://${WEBHOOK_HOST_LABEL}.<environment domain>.`),
  })
  .strict();
