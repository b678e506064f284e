import { z } from "zod";
import { awsSchema, checkAws } from "./aws";
import { checkCi, ciSchema, resolveCiClouds } from "./ci";
import { azureSchema, checkAzure } from "./azure";
import { checkClusters, clusterCloud, clustersSchema, resolveClusters } from "./clusters";
import { email, resourceName, STAGES, userTags, type Stage } from "./common";
import { checkDatabases, resolveDatabase, resolveDatabaseServers } from "./databases";
import { applicationSchema, databaseServerSchema, environmentSchema, gitopsSchema, OPERATIONAL_BACKUP_DAYS, SHARED_STACK_PARTS, WEBHOOK_HOST_LABEL } from "./environments";
import { DEFAULT_FLUX_VERSION, fluxSchema } from "./flux";
import { logsSchema } from "./logs";
import { pagerSchema } from "./pager";
import { checkPreviews, previewsSchema } from "./previews";
import { bytes, millicores } from "./quantity";
import { referenceFindings } from "./reference-checks";
import { STAGE_SETTINGS } from "./stages";

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, { message: "a DNS name such as example.com" });

const rawConfigSchema = z
  .object({
    project: resourceName(20).describe("Short name (a DNS label of at most 20 characters) in every resource name."),
    tags: userTags.describe("Extra tags (AWS) and labels (Azure) on every resource. The program sets environment, managed-by and project itself."),
    applications: z.array(applicationSchema).min(1, { message: "at least one application" }).describe("The applications the platform builds and delivers: one registry repository and one image automation each."),
    gitops: gitopsSchema.describe("The GitOps repository every environment syncs from with Flux."),
    flux: fluxSchema.default({ version: DEFAULT_FLUX_VERSION }).describe("Flux itself, as the Flux Operator installs it in each cluster."),
    domain: z
      .object({
        base: hostname.describe("Base DNS name: each environment is served on <environment>.<base>."),
        productionOnBase: z.boolean().default(true).describe("Serve production on the base domain itself instead of production.<base>."),
        existingZone: z
          .object({
            name: hostname.describe("Name of the existing public zone: the base domain itself or a parent of it."),
            resourceGroup: z
              .string()
              .regex(/^[-\w._()]{1,90}$/, { message: "an Azure resource group name" })
              .optional()
              .describe("Azure only: the resource group holding the zone."),
          })
          .strict()
          .optional()
          .describe("A public zone that already exists and holds the base domain. Default: the platform creates a zone for base."),
        recordPolicy: z.enum(["upsert-only", "sync"]).default("upsert-only").describe("What external-dns may do to records it owns: sync also deletes them."),
        issuer: z
          .enum(["letsencrypt-staging", "letsencrypt-production"])
          .default("letsencrypt-staging")
          .describe("Let's Encrypt environment the routes' certificate comes from; staging certificates are not trusted by browsers, and synth warns while it is chosen."),
        acmeEmail: email.optional().describe("ACME account e-mail. Default: the first of alerts.emails."),
      })
      .strict()
      .describe("Where the environments are served."),
    alerts: z
      .object({
        emails: z.array(email).default([]).describe("Receivers of the platform's alerts (Alertmanager in each cluster)."),
        node: z
          .object({
            cpuPercent: z.number().gt(0).lt(100).default(90).describe("Alert when a node's CPU is busier than this, over 15 minutes."),
            memoryAvailablePercent: z.number().gt(0).lt(100).default(10).describe("Alert when a node has less memory available than this, over 10 minutes."),
            diskAvailablePercent: z.number().gt(0).lt(100).default(10).describe("Alert when a node's root filesystem has less space available than this."),
          })
          .strict()
          .default({ cpuPercent: 90, memoryAvailablePercent: 10, diskAvailablePercent: 10 })
          .describe("Node alerts: the cluster's nodes serve every environment, so one set of thresholds."),
        pager: pagerSchema.optional().describe("Where production's critical alerts page someone, besides the e-mails. Default: no pager; they are mailed."),
      })
      .strict()
      .default({ emails: [], node: { cpuPercent: 90, memoryAvailablePercent: 10, diskAvailablePercent: 10 } })
      .describe("Where platform alerts go, and the node alert thresholds."),
    logs: logsSchema.describe("The cluster's log store (Loki): retention and ingestion limits."),
    environments: z.array(environmentSchema).min(1, { message: "at least one environment" }).describe("The environments, each a namespace with its own quota, database and GitOps path."),
    databaseServers: z
      .array(databaseServerSchema)
      .default([])
      .describe("PostgreSQL servers several environments share, each environment with a database and a role of its own (environments[].database.server). Default: none; every environment has a server of its own."),
    clouds: z
      .object({
        aws: awsSchema.optional().describe("The platform on AWS: EKS, ECR, RDS for PostgreSQL, AWS Backup."),
        azure: azureSchema.optional().describe("The platform on Azure: AKS, ACR, PostgreSQL Flexible Server, Key Vault, Azure Backup."),
      })
      .strict()
      .refine((clouds) => clouds.aws !== undefined || clouds.azure !== undefined, {
        message: "at least one cloud: aws, azure or both",
      })
      .describe("The clouds to build the platform on: aws, azure or both."),
    clusters: clustersSchema,
    previews: previewsSchema
      .optional()
      .describe("Pull-request previews: each labelled pull request of an application with previews: true runs in the preview namespace until it closes or loses the label. Default: off."),
    ci: ciSchema
      .optional()
      .describe("The GitHub repository that plans and deploys the platform: adds the bootstrap stacks (state storage and the CI identities) and grants those identities their access. Default: no CI identities."),
  })
  .strict();

/** The config as validated, before defaults are resolved: what the rules read. */
export type RawConfig = z.infer<typeof rawConfigSchema>;
type Ctx = z.RefinementCtx;
type Path = (string | number)[];

export { ACR_WEBHOOK_QUOTA } from "./azure";

function issue(ctx: Ctx, path: Path, input: unknown, message: string): void {
  ctx.addIssue({ code: "custom", path, input, message });
}

function isStage(name: string): name is Stage {
  return (STAGES as readonly string[]).includes(name);
}

/** Each application is one registry repository and one image automation: names are unique. */
function checkApplications(config: RawConfig, ctx: Ctx): void {
  const seen = new Map<string, number>();
  config.applications.forEach((app, i) => {
    const previous = seen.get(app.name);
    if (previous !== undefined) {
      issue(ctx, ["applications", i, "name"], app.name, `duplicate application name; applications[${previous}] is already named '${app.name}'`);
    } else {
      seen.set(app.name, i);
    }
    const receivers = config.gitops.receivers;
    if (app.name === WEBHOOK_HOST_LABEL && (receivers?.git || receivers?.registry)) {
      issue(ctx, ["applications", i, "name"], app.name, `is the host of the webhooks (${WEBHOOK_HOST_LABEL}.<environment domain>) while gitops.receivers is on; rename the application`);
    }
  });
  config.environments.forEach((env, i) => {
    const listed = new Map<string, number>();
    (env.applications ?? []).forEach((app, j) => {
      const previous = listed.get(app);
      if (previous !== undefined) {
        issue(ctx, ["environments", i, "applications", j], app, `listed twice; environments[${i}].applications[${previous}] is already '${app}'`);
      } else {
        listed.set(app, j);
      }
    });
  });
}

/**
 * Each environment becomes the stacks `<cloud>-<name>` and `<cloud>-<name>-data`
 * beside `<cloud>-platform` and `<cloud>-addons`: no name may take another's.
 */
function checkStackNames(config: RawConfig, ctx: Ctx): void {
  const names = new Set(config.environments.map((env) => env.name));
  config.environments.forEach((env, i) => {
    const at: Path = ["environments", i, "name"];
    if ((SHARED_STACK_PARTS as readonly string[]).includes(env.name)) {
      issue(ctx, at, env.name, `names a stack every cloud has (<cloud>-${env.name}); environments cannot be named ${SHARED_STACK_PARTS.slice(0, -1).join(", ")} or ${SHARED_STACK_PARTS.at(-1)}`);
      return;
    }
    const owner = env.name.endsWith("-data") ? env.name.slice(0, -"-data".length) : undefined;
    if (owner !== undefined && names.has(owner)) {
      issue(ctx, at, env.name, `collides with the data stack of environment '${owner}' (<cloud>-${owner}-data); choose a name that does not end in -data`);
    }
  });
}

function checkEnvironments(config: RawConfig, ctx: Ctx): void {
  const seen = new Map<string, number>();
  const applicationNames = config.applications.map((app) => app.name);
  config.environments.forEach((env, i) => {
    const at = (...rest: Path): Path => ["environments", i, ...rest];
    const previous = seen.get(env.name);
    if (previous !== undefined) {
      issue(ctx, at("name"), env.name, `duplicate environment name; environments[${previous}] is already named '${env.name}'`);
    }
    seen.set(env.name, i);
    const stage = env.stage ?? (isStage(env.name) ? env.name : undefined);
    if (stage === undefined) {
      issue(ctx, at("stage"), env.name, `unknown environment '${env.name}': set stage to one of ${STAGES.join(", ")}`);
    } else if (isStage(env.name) && stage !== env.name) {
      // What protects an environment (HA, retention, deletion protection, image policy) follows its stage, not its name.
      issue(ctx, at("stage"), stage, `environment '${env.name}' is named after a stage but set to stage ${stage}; everything that protects ${env.name} follows the stage: rename the environment or set stage ${env.name}`);
      return;
    }
    for (const [j, app] of (env.applications ?? []).entries()) {
      if (!applicationNames.includes(app)) {
        issue(ctx, at("applications", j), app, `unknown application; configured applications are ${applicationNames.join(", ")}`);
      }
    }
    checkResources(env, at, ctx);
  });
}

/** Object storage settings that depend on each other, and on the clouds' naming rules. */
function checkObjectStorage(config: RawConfig, ctx: Ctx): void {
  config.applications.forEach((app, i) => {
    const storage = app.objectStorage;
    if (!storage) return;
    const at = (...rest: Path): Path => ["applications", i, "objectStorage", ...rest];
    if (storage.noncurrentVersionDays !== undefined && !storage.versioning) {
      issue(ctx, at("noncurrentVersionDays"), storage.noncurrentVersionDays, "applies to earlier versions, which exist only with versioning: set versioning to true");
    }
    if (storage.backup && !storage.versioning) {
      issue(ctx, at("backup"), true, "backups of objects need versioning (AWS Backup for S3 and Azure's operational backup restore from versions): set versioning to true");
    }
    // Azure's point-in-time restore rebuilds the container from versions of its whole window.
    if (config.clouds.azure && storage.backup && storage.noncurrentVersionDays !== undefined && storage.noncurrentVersionDays < OPERATIONAL_BACKUP_DAYS) {
      issue(
        ctx,
        at("noncurrentVersionDays"),
        storage.noncurrentVersionDays,
        `Azure's operational backup restores from earlier versions of the last ${OPERATIONAL_BACKUP_DAYS} days: keep them at least ${OPERATIONAL_BACKUP_DAYS} days`,
      );
    }
    if (config.clouds.azure && app.name.length < 3) {
      issue(ctx, ["applications", i, "name"], app.name, "names the application's Azure Blob container, which needs at least 3 characters");
    }
  });
}

/** Pairs of quantities where the first must not exceed the second. */
function checkResources(env: RawConfig["environments"][number], at: (...rest: Path) => Path, ctx: Ctx): void {
  const { quota, limitRange } = env;
  const pairs: [Path, string, string, string, (q: string) => number | undefined][] = [
    [at("quota", "requestsCpu"), quota.requestsCpu, quota.limitsCpu, "quota.limitsCpu", millicores],
    [at("quota", "requestsMemory"), quota.requestsMemory, quota.limitsMemory, "quota.limitsMemory", bytes],
    [at("limitRange", "defaultRequestCpu"), limitRange.defaultRequestCpu, limitRange.defaultLimitCpu, "limitRange.defaultLimitCpu", millicores],
    [at("limitRange", "defaultRequestMemory"), limitRange.defaultRequestMemory, limitRange.defaultLimitMemory, "limitRange.defaultLimitMemory", bytes],
    [at("limitRange", "defaultLimitCpu"), limitRange.defaultLimitCpu, quota.limitsCpu, "quota.limitsCpu", millicores],
    [at("limitRange", "defaultLimitMemory"), limitRange.defaultLimitMemory, quota.limitsMemory, "quota.limitsMemory", bytes],
  ];
  for (const [path, value, ceiling, ceilingName, measure] of pairs) {
    const [a, b] = [measure(value), measure(ceiling)];
    if (a !== undefined && b !== undefined && a > b) issue(ctx, path, value, `must not exceed ${ceilingName} (${ceiling})`);
  }
}

function checkLogs(config: RawConfig, ctx: Ctx): void {
  const { limits } = config.logs;
  if (limits.ingestionBurstMb < limits.ingestionRateMb) {
    issue(ctx, ["logs", "limits", "ingestionBurstMb"], limits.ingestionBurstMb, `must be at least ingestionRateMb (${limits.ingestionRateMb})`);
  }
  if (limits.perStreamRateMb > limits.ingestionRateMb) {
    issue(ctx, ["logs", "limits", "perStreamRateMb"], limits.perStreamRateMb, `must not exceed ingestionRateMb (${limits.ingestionRateMb})`);
  }
}
/** Let's Encrypt puts at most 100 names on one certificate. */
export const MAX_CERTIFICATE_NAMES = 100;

/** The longest DNS name, in characters. */
const MAX_DNS_NAME = 253;

function checkDomain(config: RawConfig, ctx: Ctx): void {
  const { base, existingZone } = config.domain;
  if (existingZone && existingZone.name !== base && !base.endsWith(`.${existingZone.name}`)) {
    issue(ctx, ["domain", "existingZone", "name"], existingZone.name, `must be the base domain ${base} or a parent of it`);
  }
  if (existingZone && config.clouds.azure && existingZone.resourceGroup === undefined) {
    issue(ctx, ["domain", "existingZone", "resourceGroup"], undefined, "the resource group of the existing Azure DNS zone is required when clouds.azure is set");
  }
  // cert-manager answers DNS-01 challenges at _acme-challenge.<environment>.<base>: a name of at most 253 characters.
  const longest = config.environments.reduce((a, b) => (b.name.length > a.name.length ? b : a));
  const challenge = `_acme-challenge.${longest.name}.${base}`;
  if (challenge.length > MAX_DNS_NAME) {
    issue(ctx, ["domain", "base"], base, `is ${base.length} characters: ${challenge.length} with _acme-challenge.${longest.name}., and DNS names hold at most ${MAX_DNS_NAME}; use at most ${MAX_DNS_NAME - challenge.length + base.length} characters`);
  }
  // One name per environment, two for production on the base domain.
  const names = config.environments.length + (config.domain.productionOnBase ? 1 : 0);
  if (names > MAX_CERTIFICATE_NAMES) {
    issue(ctx, ["environments"], config.environments.length, `the routes' certificate would need ${names} names; Let's Encrypt allows ${MAX_CERTIFICATE_NAMES}`);
  }
  if (!config.domain.productionOnBase) return;
  const production = config.environments
    .map((env, i) => ({ name: env.name, i, stage: env.stage ?? env.name }))
    // An environment named after another stage is reported once, in checkEnvironments.
    .filter((env) => env.stage === "production" && !(isStage(env.name) && env.name !== env.stage));
  for (const extra of production.slice(1)) {
    issue(
      ctx,
      ["environments", extra.i, "name"],
      extra.name,
      `only one production environment can serve the base domain ${config.domain.base}; '${production[0].name}' already does. Set domain.productionOnBase to false`,
    );
  }
}

function resolve(config: RawConfig) {
  const applicationNames = config.applications.map((app) => app.name);
  return {
    ...config,
    clouds: resolveCiClouds(config),
    domain: { ...config.domain, acmeEmail: config.domain.acmeEmail ?? (config.alerts.emails[0] as string | undefined) },
    environments: config.environments.map((env) => ({
      ...env,
      stage: (env.stage ?? env.name) as Stage,
      applications: env.applications ?? applicationNames,
      gitops: {
        branch: env.gitops.branch ?? config.gitops.branch,
        path: env.gitops.path ?? `deploy/${env.name}`,
      },
      database: resolveDatabase(env, config.databaseServers),
      alerts: { ...env.alerts, uptimeChecks: env.alerts.uptimeChecks ?? STAGE_SETTINGS[(env.stage ?? env.name) as Stage].uptimeChecksByDefault },
    })),
    databaseServers: resolveDatabaseServers(config),
    clusters: resolveClusters(config),
  };
}

/**
 * A cluster's own network and cluster settings, checked by the cloud's rules
 * as if they were the cloud's: each finding names the cluster's field.
 */
function checkClusterOverrides(config: RawConfig, ctx: Ctx): void {
  (config.clusters ?? []).forEach((cluster, i) => {
    for (const cloud of ["aws", "azure"] as const) {
      const base = config.clouds[cloud];
      const override = cluster.clouds[cloud];
      if (!base || !override) continue;
      const own = new Set(cluster.environments);
      const view = { ...config, clusters: undefined, environments: config.environments.filter((env) => own.has(env.name)), clouds: { [cloud]: clusterCloud(base, override) } } as RawConfig;
      const relay = {
        addIssue(found: z.core.$ZodRawIssue) {
          const path = (found.path ?? []) as Path;
          const [, , section] = path;
          // The tier is checked per cluster by checkClusters, whether set here or inherited.
          if ((section !== "network" && section !== "cluster") || path.at(-1) === "skuTier") return;
          ctx.addIssue({ ...found, path: ["clusters", i, ...path] } as z.core.$ZodRawIssue);
        },
      } as Ctx;
      const report = (path: Path, input: unknown, message: string) => issue(relay, path, input, message);
      if (cloud === "aws") checkAws(view, report);
      else checkAzure(view, report);
    }
  });
}

export const configSchema = rawConfigSchema
  .superRefine((config, ctx) => {
    checkApplications(config, ctx);
    checkStackNames(config, ctx);
    checkEnvironments(config, ctx);
    checkDatabases(config, (path, input, message) => issue(ctx, path, input, message));
    checkObjectStorage(config, ctx);
    checkDomain(config, ctx);
    checkLogs(config, ctx);
    checkAws(config, (path, input, message) => issue(ctx, path, input, message));
    checkAzure(config, (path, input, message) => issue(ctx, path, input, message));
    checkCi(config, ctx);
    checkClusters(config, (path, input, message) => issue(ctx, path, input, message));
    checkClusterOverrides(config, ctx);
    checkPreviews(config, (path, input, message) => issue(ctx, path, input, message));
    for (const finding of referenceFindings(config)) {
      if (finding.severity === "error") issue(ctx, finding.path, finding.value, finding.message);
    }
  })
  .transform(resolve);

export type PlatformConfig = z.output<typeof configSchema>;
export type EnvironmentConfig = PlatformConfig["environments"][number];
export type DatabaseServerConfig = PlatformConfig["databaseServers"][number];
export type ApplicationConfig = PlatformConfig["applications"][number];
