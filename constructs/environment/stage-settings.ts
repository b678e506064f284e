import type { Stage } from "../../config";

/** Pod Security Standards levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** Everything that differs between stages, decided in one place. */
export interface StageSettings {
  /**
   * Blue/green slot: production serves (blue), staging is the next release
   * waiting to take over (green). Develop is outside the pair.
   */
  readonly colour?: "blue" | "green";
  /** Pods breaking this level are rejected; every stage warns and audits at `restricted`. */
  readonly podSecurityEnforce: PodSecurityLevel;
  /** Knative `autoscaling.knative.dev/min-scale`: production never waits for a cold start. */
  readonly knativeMinScale: number;
  /** How the ImagePolicy picks a tag: newest build by timestamp, or the newest release in a semver range. */
  readonly imageTags: "timestamp" | "semver";
  /** Whether Flux commits new tags to Git by itself; production changes only through reviewed commits. */
  readonly imageUpdateAutomation: boolean;
}

export const STAGE_SETTINGS: Record<Stage, StageSettings> = {
  develop: { podSecurityEnforce: "baseline", knativeMinScale: 0, imageTags: "timestamp", imageUpdateAutomation: true },
  staging: { colour: "green", podSecurityEnforce: "baseline", knativeMinScale: 0, imageTags: "timestamp", imageUpdateAutomation: true },
  production: { colour: "blue", podSecurityEnforce: "restricted", knativeMinScale: 1, imageTags: "semver", imageUpdateAutomation: false },
};
