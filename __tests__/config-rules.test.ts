import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError, PROJECT_ROOT, validateConfig } from "../config";
import { instanceTypeArchitecture } from "../config/instance-types";
import { AWS_REGIONS, AZURE_LOCATIONS } from "../config/regions";
import { problemOf, type BadConfigCase } from "./support/config-problems";
import { configWith } from "./support/synth";

const cases: BadConfigCase[] = [
  {
    name: "two applications with the same name",
    change: (r) => r.applications.push({ name: "web" }),
    path: "applications[2].name",
    value: "web",
    message: "duplicate application name; applications[0] is already named 'web'",
  },
  {
    name: "an application listed twice in one environment",
    change: (r) => (r.environments[1].applications = ["web", "api", "web"]),
    path: "environments[1].applications[2]",
    value: "web",
    message: "listed twice; environments[1].applications[0] is already 'web'",
  },
  {
    name: "an environment named like the platform stack",
    change: (r) => r.environments.push({ ...r.environments[0], name: "platform", stage: "develop" }),
    path: "environments[3].name",
    value: "platform",
    message: "names a stack every cloud has (<cloud>-platform); environments cannot be named platform, addons or bootstrap",
  },
  {
    name: "an environment named like the add-ons stack",
    change: (r) => r.environments.push({ ...r.environments[0], name: "addons", stage: "develop" }),
    path: "environments[3].name",
    value: "addons",
    message: "names a stack every cloud has (<cloud>-addons); environments cannot be named platform, addons or bootstrap",
  },
  {
    name: "an environment named like another environment's data stack",
    change: (r) => r.environments.push({ ...r.environments[0], name: "staging-data", stage: "staging" }),
    path: "environments[3].name",
    value: "staging-data",
    message: "collides with the data stack of environment 'staging' (<cloud>-staging-data); choose a name that does not end in -data",
  },
  {
    name: "an invented AWS region close to a real one",
    change: (r) => (r.clouds.aws.region = "eu-west-9"),
    path: "clouds.aws.region",
    value: "eu-west-9",
    message: 'not an AWS region; did you mean "eu-west-1"? (every region the program knows is in config/regions.ts)',
  },
  {
    name: "a made-up AWS region",
    change: (r) => (r.clouds.aws.region = "narnia"),
    path: "clouds.aws.region",
    value: "narnia",
    message: `not an AWS region; use one of ${AWS_REGIONS.join(", ")}`,
  },
  {
    name: "a real AWS region none of the zones is in",
    change: (r) => (r.clouds.aws.region = "us-east-1"),
    path: "clouds.aws.region",
    value: "us-east-1",
    message: "the availability zones are all in eu-west-1: set region to eu-west-1, or list zones of us-east-1",
  },
  {
    name: "a state bucket in an invented region",
    change: (r) => (r.clouds.aws.stateBackend = { bucket: "acme-state", region: "eu-wset-1" }),
    path: "clouds.aws.stateBackend.region",
    value: "eu-wset-1",
    message: 'not an AWS region; did you mean "eu-west-1"? (every region the program knows is in config/regions.ts)',
  },
  {
    name: "a made-up Azure location",
    change: (r) => (r.clouds.azure.location = "narnia"),
    path: "clouds.azure.location",
    value: "narnia",
    message: `not an Azure region name; use one of ${AZURE_LOCATIONS.join(", ")}`,
  },
  {
    name: "a Graviton type in a system node group left at amd64",
    change: (r) => (r.clouds.aws.cluster.systemNodeGroup.instanceTypes = ["m7i.large", "m7g.large"]),
    path: "clouds.aws.cluster.systemNodeGroup.instanceTypes[1]",
    value: "m7g.large",
    message: "is arm64, but architecture is amd64: list amd64 instance types or change architecture",
  },
  {
    name: "an amd64 type in an arm64 system node group",
    change: (r) => Object.assign(r.clouds.aws.cluster.systemNodeGroup, { architecture: "arm64", instanceTypes: ["c7g.large", "c7i.large"] }),
    path: "clouds.aws.cluster.systemNodeGroup.instanceTypes[1]",
    value: "c7i.large",
    message: "is amd64, but architecture is arm64: list arm64 instance types or change architecture",
  },
  {
    name: "a misspelt field",
    change: (r) => (r.domain.productionOnBse = false),
    path: "domain",
    value: "productionOnBse",
    message: 'unknown field; did you mean "productionOnBase"?',
  },
  {
    name: "a field with nothing like it",
    change: (r) => (r.domain.banana = 1),
    path: "domain",
    value: "banana",
    message: "unknown field; the fields here are base, productionOnBase, existingZone, recordPolicy, issuer, acmeEmail",
  },
  {
    name: "a field one level too high",
    change: (r) => (r.clouds.aws.vpcCidr = "10.0.0.0/16"),
    path: "clouds.aws",
    value: "vpcCidr",
    message: 'unknown field; did you mean "network.vpcCidr"?',
  },
  {
    name: "a number above its maximum",
    change: (r) => (r.clouds.aws.cluster.systemNodeGroup.diskSizeGb = 20000),
    path: "clouds.aws.cluster.systemNodeGroup.diskSizeGb",
    value: 20000,
    message: "must be at most 16384",
  },
  {
    name: "a list below its minimum",
    change: (r) => (r.clouds.aws.cluster.nodePools[0].instanceCategories = []),
    path: "clouds.aws.cluster.nodePools[0].instanceCategories",
    value: [],
    message: "must list at least 1 entry",
  },
  {
    name: "a fraction where a whole number belongs",
    change: (r) => (r.environments[0].database.storageGb = 20.5),
    path: "environments[0].database.storageGb",
    value: 20.5,
    message: "must be a whole number, not a fraction",
  },
  {
    name: "text where true or false belongs",
    change: (r) => (r.environments[0].database.highAvailability = "yes"),
    path: "environments[0].database.highAvailability",
    value: "yes",
    message: "must be true or false, not text",
  },
  {
    name: "a required field left out",
    change: (r) => delete r.environments[0].quota.pods,
    path: "environments[0].quota.pods",
    value: undefined,
    message: "is required: a number",
  },
  {
    name: "a list entry left empty",
    change: (r) => (r.alerts.emails = [null]),
    path: "alerts.emails[0]",
    value: null,
    message: "is empty: set text",
  },
];

describe("configuration rules: field path, value and what is allowed", () => {
  it.each(cases)("$name", ({ change, path: fieldPath, value, message }) => {
    expect(problemOf(change)).toEqual({ path: fieldPath, value, message });
  });

  it("reports a misspelt required field once, as the misspelling", () => {
    const problem = problemOf((r) => {
      r.environments[2].database.highAvailabilty = true;
      delete r.environments[2].database.highAvailability;
    });
    expect(problem).toEqual({ path: "environments[2].database", value: "highAvailabilty", message: 'unknown field; did you mean "highAvailability"?' });
  });

  it("never answers with the schema library's generic phrases", () => {
    const broken = configWith((r) => {
      r.environments[0].database.backupRetentionDays = 99;
      r.clouds.aws.cluster.version = "1.2";
      delete r.environments[1].quota.pods;
      r.clouds.azure.cluster.adminGroupObjectIds = ["nope"];
      r.clouds.azure.cluster.dnsServiceIp = "1.2.3";
      r.clouds.aws.cluster.systemNodeGroup.nodeCount = "two";
      r.tags[""] = "empty";
    });
    let message = "";
    try {
      validateConfig(broken, "mine.yaml");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message.split("\n").length).toBeGreaterThanOrEqual(8);
    for (const generic of ["Too big", "Too small", "Invalid input", "Invalid option", "Invalid UUID", "Invalid IPv4", "(missing)", "expected number to be"]) {
      expect(message).not.toContain(generic);
    }
    expect(message).toContain("environments[1].quota.pods: is required: a number");
  });

  it("a wrong region is named, not each zone", () => {
    const problems = (() => {
      try {
        validateConfig(configWith((r) => (r.clouds.aws.region = "narnia")));
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    })();
    expect(problems.map((p) => p.path)).toEqual(["clouds.aws.region"]);
  });
});

describe("the architecture of an EC2 instance type", () => {
  it.each([
    ["m7g.large", "arm64"],
    ["c7gn.xlarge", "arm64"],
    ["r8gd.2xlarge", "arm64"],
    ["t4g.medium", "arm64"],
    ["im4gn.large", "arm64"],
    ["is4gen.xlarge", "arm64"],
    ["g5g.xlarge", "arm64"],
    ["a1.large", "arm64"],
    ["m7i.large", "x86_64"],
    ["m7i-flex.large", "x86_64"],
    ["m6a.large", "x86_64"],
    ["g4dn.xlarge", "x86_64"],
    ["g4ad.xlarge", "x86_64"],
    ["c5n.large", "x86_64"],
    ["t3.micro", "x86_64"],
    ["u-6tb1.metal", undefined],
  ])("%s is %s", (type, architecture) => {
    expect(instanceTypeArchitecture(type)).toBe(architecture);
  });
});

describe("a config breaking a rule writes nothing", () => {
  let workdir: string;
  beforeAll(() => {
    workdir = mkdtempSync(path.join(tmpdir(), "config-rules-"));
  });
  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  it.each([
    ["duplicate applications", (r: any) => r.applications.push({ name: "api" }), "duplicate application name"],
    ["an environment named addons", (r: any) => r.environments.push({ ...r.environments[0], name: "addons", stage: "develop" }), "names a stack every cloud has"],
  ])("%s: exit 1, no stack trace, no cdktf.out", (_name, change, expected) => {
    const file = path.join(workdir, "bad.yaml");
    writeFileSync(file, stringify(configWith(change)));
    const result = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "scripts/synth.cjs")], {
      cwd: workdir,
      env: { ...process.env, PLATFORM_CONFIG: file },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(expected);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(workdir, "cdktf.out"))).toBe(false);
  });
});
