import { formatPath, type ConfigProblem } from "./load";
import { referenceFindings } from "./reference-checks";
import type { PlatformConfig } from "./schema";

/** The scale-to-zero timings and image policy an environment gets when it sets none (config/environments.ts). */
const DEFAULT_SCALE_TO_ZERO = { gracePeriodSeconds: 30, retentionPeriodSeconds: 0 };
const DEFAULT_SEMVER_RANGE = ">=1.0.0";

/**
 * What synth goes on with but the user should hear about: settings the
 * platform ignores, and values newer than the reference lists. Each names
 * the field; main.ts prints them as the last lines of a synth.
 */
export function configWarnings(config: PlatformConfig): ConfigProblem[] {
  const warnings: ConfigProblem[] = [];
  const warn = (path: (string | number)[], value: unknown, message: string) => warnings.push({ path: formatPath(path), value, message });

  config.environments.forEach((env, i) => {
    const { gracePeriodSeconds, retentionPeriodSeconds } = env.scaleToZero;
    const timingsSet = gracePeriodSeconds !== DEFAULT_SCALE_TO_ZERO.gracePeriodSeconds || retentionPeriodSeconds !== DEFAULT_SCALE_TO_ZERO.retentionPeriodSeconds;
    const othersScale = config.environments.some((other) => other.stage !== "production");
    if (env.stage === "production" && timingsSet && othersScale) {
      warn(["environments", i, "scaleToZero"], env.scaleToZero, "has no effect: production keeps at least one pod per service and never scales to zero");
    }
    if (env.stage !== "production" && env.imagePolicy.semverRange !== DEFAULT_SEMVER_RANGE) {
      warn(["environments", i, "imagePolicy", "semverRange"], env.imagePolicy.semverRange, `has no effect: ${env.stage} deploys the newest image by build time; only production follows a semver range`);
    }
  });

  const receivers = [...config.alerts.emails, ...(config.clouds.aws?.backup.notificationEmails ?? []), ...(config.clouds.azure?.alertEmails ?? [])];
  if (receivers.length === 0) {
    warn(["alerts", "emails"], config.alerts.emails, "no one receives the platform's alerts: every alert e-mail list is empty; add an address");
  }
  if (config.domain.existingZone?.resourceGroup !== undefined && !config.clouds.azure) {
    warn(["domain", "existingZone", "resourceGroup"], config.domain.existingZone.resourceGroup, "has no effect without clouds.azure: it names the Azure resource group of the zone");
  }

  for (const finding of referenceFindings(config)) {
    if (finding.severity === "warning") warn(finding.path, finding.value, finding.message);
  }
  return warnings;
}

/** The warnings as the last lines of a synth, or nothing. */
export function configWarningText(warnings: readonly ConfigProblem[]): string | undefined {
  if (warnings.length === 0) return undefined;
  return [
    `warning: ${warnings.length} setting(s) may not do what they say; synth went on:`,
    ...warnings.map((w) => `  - ${w.path}: ${JSON.stringify(w.value)} ${w.message}`),
  ].join("\n");
}
