import { describe, expect, it } from "vitest";
import { validateConfig } from "../config";
import { problemOf, type BadConfigCase } from "./support/config-problems";
import { configWith } from "./support/synth";

describe("environment configurations the platform refuses", () => {
  const cases: BadConfigCase[] = [
    {
      name: "two environments with the same name",
      change: (r) => r.environments.push({ ...r.environments[0] }),
      path: "environments[3].name",
      value: "develop",
      message: "duplicate environment name; environments[0] is already named 'develop'",
    },
    {
      name: "an environment delivering an application the platform does not build",
      change: (r) => (r.environments[1].applications = ["web", "billing"]),
      path: "environments[1].applications[1]",
      value: "billing",
      message: "unknown application; configured applications are web, api",
    },
    {
      name: "a production semver range that does not parse",
      change: (r) => (r.environments[2].imagePolicy.semverRange = "newest"),
      path: "environments[2].imagePolicy.semverRange",
      value: "newest",
      message: "a semver range such as '>=1.0.0 <2.0.0', '^1.4.0' or '1.x'",
    },
    {
      name: "a semver range with a broken comparator",
      change: (r) => (r.environments[2].imagePolicy.semverRange = ">=1.0.0 <2..0"),
      path: "environments[2].imagePolicy.semverRange",
      value: ">=1.0.0 <2..0",
      message: "a semver range such as '>=1.0.0 <2.0.0', '^1.4.0' or '1.x'",
    },
    {
      name: "a Git URL that is not a URL",
      change: (r) => (r.gitops.url = "platform-deploy.git"),
      path: "gitops.url",
      value: "platform-deploy.git",
      message: "an https:// or ssh:// Git URL",
    },
    {
      name: "an scp-style Git address Flux cannot clone",
      change: (r) => (r.gitops.url = "git@github.com:acme/platform-deploy.git"),
      path: "gitops.url",
      value: "git@github.com:acme/platform-deploy.git",
      message: "an https:// or ssh:// Git URL",
    },
    {
      name: "a quota CPU that is not a Kubernetes quantity",
      change: (r) => (r.environments[0].quota.requestsCpu = "four"),
      path: "environments[0].quota.requestsCpu",
      value: "four",
      message: "a CPU quantity such as '500m' or '2'",
    },
    {
      name: "a quota memory in decimal gigabytes",
      change: (r) => (r.environments[0].quota.limitsMemory = "16GB"),
      path: "environments[0].quota.limitsMemory",
      value: "16GB",
      message: "a memory quantity such as '512Mi' or '4Gi'",
    },
    {
      name: "quota requests above quota limits",
      change: (r) => (r.environments[1].quota.requestsMemory = "64Gi"),
      path: "environments[1].quota.requestsMemory",
      value: "64Gi",
      message: "must not exceed quota.limitsMemory (32Gi)",
    },
    {
      name: "a default container limit larger than the whole quota",
      change: (r) => (r.environments[0].limitRange.defaultLimitCpu = "9"),
      path: "environments[0].limitRange.defaultLimitCpu",
      value: "9",
      message: "must not exceed quota.limitsCpu (8)",
    },
    {
      name: "a default request above the default limit",
      change: (r) => (r.environments[2].limitRange.defaultRequestMemory = "4Gi"),
      path: "environments[2].limitRange.defaultRequestMemory",
      value: "4Gi",
      message: "must not exceed limitRange.defaultLimitMemory (2Gi)",
    },
    {
      name: "a GitOps path climbing out of the repository",
      change: (r) => (r.environments[0].gitops = { path: "deploy/../../secrets" }),
      path: "environments[0].gitops.path",
      value: "deploy/../../secrets",
      message: "must not leave the GitOps repository: remove '..'",
    },
    {
      name: "an absolute GitOps path",
      change: (r) => (r.environments[0].gitops = { path: "/deploy/develop" }),
      path: "environments[0].gitops.path",
      value: "/deploy/develop",
      message: "a relative directory of the GitOps repository such as deploy/develop",
    },
    {
      name: "a scale-to-zero grace period over an hour",
      change: (r) => (r.environments[0].scaleToZero.gracePeriodSeconds = 7200),
      path: "environments[0].scaleToZero.gracePeriodSeconds",
      value: 7200,
      message: "must be at most 3600",
    },
    {
      name: "a 5xx alert ratio of 1 or more",
      change: (r) => (r.environments[1].alerts = { errorRatio: 5 }),
      path: "environments[1].alerts.errorRatio",
      value: 5,
      message: "a ratio between 0 and 1 exclusive, such as 0.05",
    },
    {
      name: "a migration timeout of zero minutes",
      change: (r) => (r.environments[0].alerts = { migrationTimeoutMinutes: 0 }),
      path: "environments[0].alerts.migrationTimeoutMinutes",
      value: 0,
      message: "must be at least 1",
    },
    {
      name: "a misspelt alert setting",
      change: (r) => (r.environments[0].alerts = { uptimeCheck: true }),
      path: "environments[0].alerts",
      value: "uptimeCheck",
      message: 'unknown field; did you mean "uptimeChecks"?',
    },
    {
      name: "a health path that is not an absolute path",
      change: (r) => (r.applications[1].healthPath = "api/v1/health"),
      path: "applications[1].healthPath",
      value: "api/v1/health",
      message: "an absolute URL path such as /api/v1/health",
    },
    {
      name: "a node CPU threshold of 100% or more, which can never be exceeded",
      change: (r) => (r.alerts.node = { cpuPercent: 100 }),
      path: "alerts.node.cpuPercent",
      value: 100,
      message: "must be less than 100",
    },
    {
      name: "an environment name too long for the namespace and its release names",
      change: (r) => (r.environments[0] = { ...r.environments[0], name: "develop-feature-branch", stage: "develop" }),
      path: "environments[0].name",
      value: "develop-feature-branch",
      message: "at most 20 characters",
    },
    {
      name: "a stage that does not exist",
      change: (r) => (r.environments[0] = { ...r.environments[0], name: "qa", stage: "testing" }),
      path: "environments[0].stage",
      value: "testing",
      message: 'must be one of "develop", "staging", "production"',
    },
    {
      name: "an environment taking over a platform namespace",
      change: (r) => (r.environments[0] = { ...r.environments[0], name: "flux-system", stage: "develop" }),
      path: "environments[0].name",
      value: "flux-system",
      message:
        "names a platform namespace; environments cannot be named default, flux-system, external-secrets, knative-serving, kourier-system, knative-operator, monitoring, cert-manager, external-dns, database-setup or kube-*",
    },
    {
      name: "an environment in a kube- namespace",
      change: (r) => (r.environments[0] = { ...r.environments[0], name: "kube-apps", stage: "develop" }),
      path: "environments[0].name",
      value: "kube-apps",
      message:
        "names a platform namespace; environments cannot be named default, flux-system, external-secrets, knative-serving, kourier-system, knative-operator, monitoring, cert-manager, external-dns, database-setup or kube-*",
    },
    {
      name: "two production environments both on the base domain",
      change: (r) => r.environments.push({ ...structuredClone(r.environments[2]), name: "production-eu", stage: "production" }),
      path: "environments[3].name",
      value: "production-eu",
      message:
        "only one production environment can serve the base domain apps.example.com; 'production' already does. Set domain.productionOnBase to false",
    },
  ];

  it.each(cases)("$name", ({ change, path, value, message }) => {
    expect(problemOf(change)).toEqual({ path, value, message });
  });
});

describe("environment configurations the platform accepts", () => {
  it("checks production from outside by default, other environments when asked", () => {
    const config = validateConfig(configWith((r) => (r.environments[1].alerts = { uptimeChecks: true, errorRatio: 0.1 })));
    expect(config.environments.map((env) => [env.name, env.alerts.uptimeChecks, env.alerts.errorRatio, env.alerts.migrationTimeoutMinutes])).toEqual([
      ["develop", false, 0.05, 30],
      ["staging", true, 0.1, 30],
      ["production", true, 0.05, 30],
    ]);
    expect(config.applications.map((app) => app.healthPath)).toEqual(["/healthz", "/api/v1/health"]);
  });

  it("takes Masterminds-style comma-separated ranges, as Flux evaluates them", () => {
    const config = validateConfig(configWith((r) => (r.environments[2].imagePolicy.semverRange = ">= 1.2, < 3.0.0")));
    expect(config.environments[2].imagePolicy.semverRange).toBe(">= 1.2, < 3.0.0");
  });

  it("takes a GitOps path starting with ./", () => {
    const config = validateConfig(configWith((r) => (r.environments[0].gitops = { path: "./clusters/dev" })));
    expect(config.environments[0].gitops.path).toBe("./clusters/dev");
  });

  it("takes two production environments when production is not on the base domain", () => {
    const config = validateConfig(
      configWith((r) => {
        r.domain.productionOnBase = false;
        r.environments.push({ ...structuredClone(r.environments[2]), name: "production-eu", stage: "production" });
      }),
    );
    expect(config.environments.filter((env) => env.stage === "production").map((env) => env.name)).toEqual(["production", "production-eu"]);
  });
});
