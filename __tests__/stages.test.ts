import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig, EXAMPLE_CONFIG_PATH, type Stage } from "../config";
import { STAGE_SETTINGS, environmentsWhere, type StageSettings } from "../config/stages";
import { alertRuleGroups } from "../constructs/addons/alert-rules";
import { clusterScaleToZero } from "../constructs/addons/knative";
import { environmentDomain } from "../constructs/environment/domain";

const root = path.resolve(__dirname, "..");
const sources = (dir: string): string[] =>
  readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(`${dir}/${entry.name}`) : entry.name.endsWith(".ts") ? [`${dir}/${entry.name}`] : [],
  );

/** Lines that decide by naming a stage rather than reading its settings. */
export function stageBranches(source: string): string[] {
  return source.split("\n").filter((line) => /\bstage\s*[!=]==?\s*["'`]|["'`](develop|staging|production)["'`]\s*[!=]==?\s*[\w.]*\bstage\b/.test(line));
}

describe("the stage table", () => {
  it("is what constructs/ and stacks/ read: no line there asks which stage an environment is", () => {
    const files = [...sources("constructs"), ...sources("stacks")];
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((file) => stageBranches(readFileSync(path.join(root, file), "utf8")).map((line) => `${file}: ${line.trim()}`));
    expect(found).toEqual([]);
  });

  it("catches a branch on a stage's name", () => {
    expect(stageBranches('const production = environment.stage === "production";')).toHaveLength(1);
    expect(stageBranches('.filter((env) => env.stage !== "production")')).toHaveLength(1);
    expect(stageBranches("const { protectData } = stageSettings(environment);")).toEqual([]);
  });

  it("protects, pages and backs up production only, and lets only production wait for no cold start", () => {
    const where = (test: (settings: StageSettings) => boolean) => (Object.keys(STAGE_SETTINGS) as Stage[]).filter((stage) => test(STAGE_SETTINGS[stage]));
    expect(where((s) => s.protectData)).toEqual(["production"]);
    expect(where((s) => s.backUpObjects)).toEqual(["production"]);
    expect(where((s) => s.pages)).toEqual(["production"]);
    expect(where((s) => s.alertSeverity === "critical")).toEqual(["production"]);
    expect(where((s) => s.ciIdentity === "production")).toEqual(["production"]);
    expect(where((s) => s.knativeMinScale === 0)).toEqual(["develop", "staging"]);
  });

  describe("decides what the layers make of a stage", () => {
    const staging = { ...STAGE_SETTINGS.staging };
    afterEach(() => {
      Object.assign(STAGE_SETTINGS.staging, staging);
    });
    const config = loadConfig(EXAMPLE_CONFIG_PATH);
    const severities = () =>
      new Set(
        alertRuleGroups({ environments: config.environments.filter((env) => env.name === "staging"), node: config.alerts.node })
          .flatMap((group) => group.rules)
          .filter((rule) => rule.labels?.environment === "staging")
          .map((rule) => rule.labels?.severity),
      );

    it("the severity of an environment's alerts", () => {
      expect(severities()).toEqual(new Set(["warning"]));
      Object.assign(STAGE_SETTINGS.staging, { alertSeverity: "critical" });
      expect(severities()).toEqual(new Set(["critical"]));
    });

    it("which environments page, and which the production identity deploys", () => {
      Object.assign(STAGE_SETTINGS.staging, { pages: true, ciIdentity: "production" });
      expect(environmentsWhere(config.environments, (stage) => stage.pages)).toEqual(["staging", "production"]);
      expect(environmentsWhere(config.environments, (stage) => stage.ciIdentity === "deploy")).toEqual(["develop"]);
    });

    it("whose timings decide scale to zero, and who may serve the base domain", () => {
      const environments = [
        { stage: "staging" as const, scaleToZero: { gracePeriodSeconds: 30, retentionPeriodSeconds: 0 } },
        { stage: "production" as const, scaleToZero: { gracePeriodSeconds: 90, retentionPeriodSeconds: 600 } },
      ];
      expect(clusterScaleToZero(environments).gracePeriodSeconds).toBe(30);
      Object.assign(STAGE_SETTINGS.staging, { knativeMinScale: 1 });
      expect(clusterScaleToZero(environments).gracePeriodSeconds).toBe(90);
      const domain = { base: "example.com", productionOnBase: true };
      expect(environmentDomain(domain, { name: "staging", stage: "staging" })).toBe("staging.example.com");
      Object.assign(STAGE_SETTINGS.staging, { mayServeBaseDomain: true });
      expect(environmentDomain(domain, { name: "staging", stage: "staging" })).toBe("example.com");
    });
  });
});
