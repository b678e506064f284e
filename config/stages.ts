import type { Stage } from "./common";

/** Pod Security Standards levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * Everything that differs between stages, decided in this one table: the
 * config's defaults and rules, the cloud stacks and the in-cluster stacks
 * read it, and none of them asks which stage an environment is.
 */
export interface StageSettings {
  /**
   * Blue/green slot: production serves (blue), staging is the next release
   * waiting to take over (green). Develop is outside the pair.
   */
  readonly colour?: "blue" | "green";
  /** Pods breaking this level are rejected; every stage warns and audits at `restricted`. */
  readonly podSecurityEnforce: PodSecurityLevel;
  /**
   * Knative `autoscaling.knative.dev/min-scale`: production never waits for a
   * cold start. The stages at 0 scale to zero, and their timings decide the
   * cluster's scale-to-zero settings.
   */
  readonly knativeMinScale: number;
  /** How the ImagePolicy picks a tag: newest build by timestamp, or the newest release in a semver range. */
  readonly imageTags: "timestamp" | "semver";
  /** Whether Flux commits new tags to Git by itself; production changes only through reviewed commits. */
  readonly imageUpdateAutomation: boolean;
  /**
   * Whether the environment's data (databases, buckets, storage accounts,
   * backups, the log store of a cluster running it) is protected from
   * deletion: `prevent_destroy`, deletion protection and Azure delete locks.
   */
  readonly protectData: boolean;
  /** Whether the applications' objects are backed up; elsewhere they are rebuilt, not restored. */
  readonly backUpObjects: boolean;
  /** The severity of the platform's alerts about the environment: a critical alert pages, a warning is mailed. */
  readonly alertSeverity: "critical" | "warning";
  /** Whether the environment's critical alerts and failed uptime checks go to the pager. */
  readonly pages: boolean;
  /** Whether `alerts.uptimeChecks` is on unless the config says otherwise. */
  readonly uptimeChecksByDefault: boolean;
  /**
   * The CI identity that deploys the environment: `production` applies its
   * stacks, and no role it makes carries the boundary the `deploy` identity's must.
   */
  readonly ciIdentity: "deploy" | "production";
  /** Whether a cluster running the environment needs the cloud's uptime SLA (AKS Standard tier). */
  readonly clusterUptimeSla: boolean;
  /** Whether `domain.productionOnBase` serves the environment on the base domain itself. */
  readonly mayServeBaseDomain: boolean;
}

export const STAGE_SETTINGS: Record<Stage, StageSettings> = {
  develop: {
    podSecurityEnforce: "baseline",
    knativeMinScale: 0,
    imageTags: "timestamp",
    imageUpdateAutomation: true,
    protectData: false,
    backUpObjects: false,
    alertSeverity: "warning",
    pages: false,
    uptimeChecksByDefault: false,
    ciIdentity: "deploy",
    clusterUptimeSla: false,
    mayServeBaseDomain: false,
  },
  staging: {
    colour: "green",
    podSecurityEnforce: "baseline",
    knativeMinScale: 0,
    imageTags: "timestamp",
    imageUpdateAutomation: true,
    protectData: false,
    backUpObjects: false,
    alertSeverity: "warning",
    pages: false,
    uptimeChecksByDefault: false,
    ciIdentity: "deploy",
    clusterUptimeSla: false,
    mayServeBaseDomain: false,
  },
  production: {
    colour: "blue",
    podSecurityEnforce: "restricted",
    knativeMinScale: 1,
    imageTags: "semver",
    imageUpdateAutomation: false,
    protectData: true,
    backUpObjects: true,
    alertSeverity: "critical",
    pages: true,
    uptimeChecksByDefault: true,
    ciIdentity: "production",
    clusterUptimeSla: true,
    mayServeBaseDomain: true,
  },
};

/** An environment's settings. */
export const stageSettings = (environment: { readonly stage: Stage }): StageSettings => STAGE_SETTINGS[environment.stage];

/** The names of the environments whose stage settings pass `test`, in config order. */
export function environmentsWhere(environments: readonly { readonly name: string; readonly stage: Stage }[], test: (settings: StageSettings) => boolean): string[] {
  return environments.filter((environment) => test(stageSettings(environment))).map((environment) => environment.name);
}

/** Whether any of the environments' stage settings pass `test`. */
export function anyEnvironmentWhere(environments: readonly { readonly stage: Stage }[], test: (settings: StageSettings) => boolean): boolean {
  return environments.some((environment) => test(stageSettings(environment)));
}
