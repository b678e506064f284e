import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { EXAMPLE_CONFIG_PATH, loadConfig, validateConfig } from "../config";
import { problemOf, type BadConfigCase } from "./support/config-problems";
import { configWith, defaultRawConfig } from "./support/synth";

describe("the default configuration", () => {
  it("is valid and resolves stages, applications and GitOps paths", () => {
    const config = loadConfig(EXAMPLE_CONFIG_PATH);
    expect(config.environments.map((env) => [env.name, env.stage, env.gitops.path])).toEqual([
      ["develop", "develop", "deploy/develop"],
      ["staging", "staging", "deploy/staging"],
      ["production", "production", "deploy/production"],
    ]);
    expect(config.environments[0].applications).toEqual(["web", "api"]);
  });

  it("never opens the AWS API endpoint to the whole internet", () => {
    expect(loadConfig(EXAMPLE_CONFIG_PATH).clouds.aws?.cluster.publicAccessCidrs).not.toContain("0.0.0.0/0");
  });
});

describe("bad configurations fail with the field, the value and what is allowed", () => {
  const cases: BadConfigCase[] = [
    {
      name: "an environment name that is not a stage, with no stage",
      change: (r) => r.environments.push({ ...r.environments[0], name: "qa" }),
      path: "environments[3].stage",
      value: "qa",
      message: "unknown environment 'qa': set stage to one of develop, staging, production",
    },
    {
      name: "a CIDR with host bits set",
      change: (r) => (r.clouds.aws.network.vpcCidr = "10.0.0.1/16"),
      path: "clouds.aws.network.vpcCidr",
      value: "10.0.0.1/16",
      message: "an IPv4 network in CIDR notation with no host bits set, such as 10.0.0.0/16",
    },
    {
      name: "a VPC too small for the subnet plan",
      change: (r) => (r.clouds.aws.network.vpcCidr = "10.0.0.0/24"),
      path: "clouds.aws.network.vpcCidr",
      value: "10.0.0.0/24",
      message: "prefix length must be between /16 and /20 (AWS allows /16 at most; subnets need /20 or larger)",
    },
    {
      name: "a service range overlapping the VPC",
      change: (r) => (r.clouds.aws.cluster.serviceCidr = "10.40.128.0/20"),
      path: "clouds.aws.cluster.serviceCidr",
      value: "10.40.128.0/20",
      message: "overlaps the VPC 10.40.0.0/16",
    },
    {
      name: "a single availability zone",
      change: (r) => (r.clouds.aws.availabilityZones = ["eu-west-1a"]),
      path: "clouds.aws.availabilityZones",
      value: ["eu-west-1a"],
      message: "at least 2 availability zones",
    },
    {
      name: "a zone outside the region",
      change: (r) => (r.clouds.aws.availabilityZones = ["eu-west-1a", "us-east-1b"]),
      path: "clouds.aws.availabilityZones[1]",
      value: "us-east-1b",
      message: "zone is not in region eu-west-1",
    },
    {
      name: "an unsupported Kubernetes version",
      change: (r) => (r.clouds.aws.cluster.version = "1.27"),
      path: "clouds.aws.cluster.version",
      value: "1.27",
      message: 'must be one of "1.30", "1.31", "1.32", "1.33", "1.34"',
    },
    {
      name: "a node group with min above max",
      change: (r) => (r.clouds.aws.cluster.nodeGroups[0].minSize = 7),
      path: "clouds.aws.cluster.nodeGroups[0].minSize",
      value: 7,
      message: "must not exceed maxSize (6)",
    },
    {
      name: "a desired size outside min..max",
      change: (r) => (r.clouds.aws.cluster.nodeGroups[0].desiredSize = 9),
      path: "clouds.aws.cluster.nodeGroups[0].desiredSize",
      value: 9,
      message: "must be between minSize (2) and maxSize (6)",
    },
    {
      name: "production without a highly available database",
      change: (r) => (r.environments[2].database.highAvailability = false),
      path: "environments[2].database.highAvailability",
      value: false,
      message: "production requires a highly available database: set true",
    },
    {
      name: "production with less than 35 days of point-in-time recovery",
      change: (r) => (r.environments[2].database.backupRetentionDays = 7),
      path: "environments[2].database.backupRetentionDays",
      value: 7,
      message: "production keeps 35 days of point-in-time recovery: set 35",
    },
    {
      name: "a production cluster whose nodes can all scale to one",
      change: (r) => (r.clouds.aws.cluster.nodeGroups[0].minSize = 1),
      path: "clouds.aws.cluster.nodeGroups",
      value: [1],
      message: "a cluster serving production needs a node group with minSize of at least 2",
    },
    {
      name: "a project name AWS resource names cannot carry",
      change: (r) => (r.project = "Acme_Corp"),
      path: "project",
      value: "Acme_Corp",
      message: "lowercase letters, digits and '-', starting with a letter and not ending with '-'",
    },
    {
      name: "a project name that would overflow IAM and RDS name limits",
      change: (r) => (r.project = "a-very-long-project-name-indeed"),
      path: "project",
      value: "a-very-long-project-name-indeed",
      message: "at most 20 characters",
    },
    {
      name: "a backup retention RDS does not accept",
      change: (r) => (r.environments[0].database.backupRetentionDays = 40),
      path: "environments[0].database.backupRetentionDays",
      value: 40,
      message: "must be at most 35",
    },
    {
      name: "an API endpoint open to the internet",
      change: (r) => (r.clouds.aws.cluster.publicAccessCidrs = ["0.0.0.0/0"]),
      path: "clouds.aws.cluster.publicAccessCidrs[0]",
      value: "0.0.0.0/0",
      message: "the API endpoint is never open to the whole internet; list your networks or leave empty for private only",
    },
    {
      name: "a user tag that would override a program tag",
      change: (r) => (r.tags.project = "other"),
      path: "tags.project",
      value: "project",
      message: "tag key 'project' is set by the program; reserved keys are environment, managed-by, project",
    },
    {
      name: "a misspelt field",
      change: (r) => (r.clouds.aws.vpcCidr = "10.0.0.0/16"),
      path: "clouds.aws",
      value: "vpcCidr",
      message: 'unknown field; did you mean "network.vpcCidr"?',
    },
    {
      name: "an admin principal that is not an IAM ARN",
      change: (r) => (r.clouds.aws.cluster.adminPrincipalArns = ["admin"]),
      path: "clouds.aws.cluster.adminPrincipalArns[0]",
      value: "admin",
      message: "an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins",
    },
    {
      name: "an RDS instance class without the db. prefix",
      change: (r) => (r.environments[0].database.instanceClass = "t3.micro"),
      path: "environments[0].database.instanceClass",
      value: "t3.micro",
      message: "an RDS instance class such as db.t4g.medium",
    },
    {
      name: "a state bucket name S3 rejects",
      change: (r) => (r.clouds.aws.stateBackend = { bucket: "My_Bucket", region: "eu-west-1" }),
      path: "clouds.aws.stateBackend.bucket",
      value: "My_Bucket",
      message: "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'",
    },
    {
      name: "no cloud at all",
      change: (r) => (r.clouds = {}),
      path: "clouds",
      value: {},
      message: "at least one cloud: aws, azure or both",
    },
  ];

  it.each(cases)("$name", ({ change, path: fieldPath, value, message }) => {
    expect(problemOf(change)).toEqual({ path: fieldPath, value, message });
  });

  it("renders every problem as 'path: value is not allowed: rule'", () => {
    expect(() => validateConfig(configWith((r) => (r.environments[0].database.backupRetentionDays = 40)), "my.yaml")).toThrow(
      "Invalid configuration in my.yaml:\n  - environments[0].database.backupRetentionDays: 40 is not allowed: must be at most 35",
    );
  });
});

describe("synth with a bad configuration", () => {
  let workdir: string | undefined;
  afterEach(() => {
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it("exits non-zero, names the problem and writes nothing", () => {
    workdir = mkdtempSync(path.join(tmpdir(), "bad-config-"));
    const raw = defaultRawConfig();
    raw.clouds.aws.availabilityZones = ["eu-west-1a"];
    const file = path.join(workdir, "platform.yaml");
    writeFileSync(file, stringify(raw));
    const result = spawnSync(process.execPath, [path.resolve(__dirname, "../scripts/synth.cjs")], {
      cwd: workdir,
      env: { ...process.env, PLATFORM_CONFIG: file },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`clouds.aws.availabilityZones: ["eu-west-1a"] is not allowed: at least 2 availability zones`);
    expect(existsSync(path.join(workdir, "cdktf.out"))).toBe(false);
  });

  it("reports YAML syntax errors with the file name", () => {
    workdir = mkdtempSync(path.join(tmpdir(), "bad-yaml-"));
    const file = path.join(workdir, "platform.yaml");
    writeFileSync(file, "project: [unclosed\n");
    expect(() => loadConfig(file)).toThrow(/Invalid configuration in .*platform\.yaml:\n  - \(file\): not valid YAML/);
    expect(readFileSync(file, "utf8")).toContain("unclosed");
  });
});
