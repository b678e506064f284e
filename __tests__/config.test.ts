import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { EXAMPLE_CONFIG_PATH, loadConfig, validateConfig } from "../config";
import { familyArchitecture } from "../config/aws";
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

describe("instance family architecture", () => {
  it.each([
    ["m7g", "arm64"], ["c7gn", "arm64"], ["r8gd", "arm64"], ["im4gn", "arm64"], ["is4gen", "arm64"], ["g5g", "arm64"], ["t4g", "arm64"],
    ["m7i", "amd64"], ["m7i-flex", "amd64"], ["c6a", "amd64"], ["g5", "amd64"], ["g6e", "amd64"], ["inf2", "amd64"], ["p5", "amd64"],
  ])("%s is %s", (family, architecture) => {
    expect(familyArchitecture(family)).toBe(architecture);
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
      name: "the old nodeGroups key, pointing to the new shape",
      change: (r) => (r.clouds.aws.cluster.nodeGroups = [{ name: "general", instanceTypes: ["m7i.large"], minSize: 2, maxSize: 6, desiredSize: 3 }]),
      path: "clouds.aws.cluster.nodeGroups",
      value: [{ name: "general", instanceTypes: ["m7i.large"], minSize: 2, maxSize: 6, desiredSize: 3 }],
      message:
        "nodeGroups was replaced: move the group the add-ons run on to systemNodeGroup (instanceTypes, nodeCount) and describe workload capacity as nodePools (capacityTypes, instanceFamilies or instanceCategories, limits); see docs/capacity.md, 'Migrating from nodeGroups'",
    },
    {
      name: "a system node group of one node",
      change: (r) => (r.clouds.aws.cluster.systemNodeGroup.nodeCount = 1),
      path: "clouds.aws.cluster.systemNodeGroup.nodeCount",
      value: 1,
      message: "at least 2: the node autoscaler and cluster-critical add-ons run here, one replica per zone",
    },
    {
      name: "a system node group of Graviton instances on amd64",
      change: (r) => (r.clouds.aws.cluster.systemNodeGroup.instanceTypes = ["m7i.large", "m7g.large"]),
      path: "clouds.aws.cluster.systemNodeGroup.instanceTypes[1]",
      value: "m7g.large",
      message: "is arm64, but architecture is amd64: list amd64 instance types or change architecture",
    },
    {
      name: "no node pool",
      change: (r) => (r.clouds.aws.cluster.nodePools = []),
      path: "clouds.aws.cluster.nodePools",
      value: [],
      message: "at least one node pool: the system group takes no workloads",
    },
    {
      name: "a node pool with no capacity type",
      change: (r) => (r.clouds.aws.cluster.nodePools[0].capacityTypes = []),
      path: "clouds.aws.cluster.nodePools[0].capacityTypes",
      value: [],
      message: "at least one capacity type: spot, on-demand or both",
    },
    {
      name: "a capacity type Karpenter does not know",
      change: (r) => (r.clouds.aws.cluster.nodePools[0].capacityTypes = ["spot", "reserved"]),
      path: "clouds.aws.cluster.nodePools[0].capacityTypes[1]",
      value: "reserved",
      message: 'must be one of "spot", "on-demand"',
    },
    {
      name: "a zero CPU limit",
      change: (r) => (r.clouds.aws.cluster.nodePools[0].limits.cpu = "0"),
      path: "clouds.aws.cluster.nodePools[0].limits.cpu",
      value: "0",
      message: "a positive CPU quantity such as 64 or 500m: the pool's total CPU ceiling",
    },
    {
      name: "a memory limit that is not a quantity",
      change: (r) => (r.clouds.aws.cluster.nodePools[0].limits.memory = "256GB"),
      path: "clouds.aws.cluster.nodePools[0].limits.memory",
      value: "256GB",
      message: "a positive memory quantity such as 256Gi: the pool's total memory ceiling",
    },
    {
      name: "an arm64 family in an amd64 pool",
      change: (r) => {
        delete r.clouds.aws.cluster.nodePools[0].instanceCategories;
        r.clouds.aws.cluster.nodePools[0].instanceFamilies = ["m7i", "c7g"];
      },
      path: "clouds.aws.cluster.nodePools[0].instanceFamilies[1]",
      value: "c7g",
      message: "is an arm64 family, but architectures are [amd64]: add arm64 or drop the family",
    },
    {
      name: "an architecture no listed family has",
      change: (r) => {
        delete r.clouds.aws.cluster.nodePools[0].instanceCategories;
        r.clouds.aws.cluster.nodePools[0].instanceFamilies = ["m7g", "c7gn"];
        r.clouds.aws.cluster.nodePools[0].architectures = ["arm64", "amd64"];
      },
      path: "clouds.aws.cluster.nodePools[0].architectures[1]",
      value: "amd64",
      message: "no family in instanceFamilies [m7g, c7gn] is amd64: add one (such as m7i) or drop amd64",
    },
    {
      name: "a pool with neither categories nor families",
      change: (r) => delete r.clouds.aws.cluster.nodePools[0].instanceCategories,
      path: "clouds.aws.cluster.nodePools[0]",
      value: "general",
      message: "set instanceCategories (such as [c, m, r]) or instanceFamilies (such as [m7i, m7g]): a pool without either may launch any instance type",
    },
    {
      name: "a pool with both categories and families",
      change: (r) => (r.clouds.aws.cluster.nodePools[0].instanceFamilies = ["m7i"]),
      path: "clouds.aws.cluster.nodePools[0].instanceFamilies",
      value: ["m7i"],
      message: "set instanceCategories or instanceFamilies, not both",
    },
    {
      name: "two pools of one name",
      change: (r) => r.clouds.aws.cluster.nodePools.push({ ...r.clouds.aws.cluster.nodePools[0] }),
      path: "clouds.aws.cluster.nodePools[1].name",
      value: "general",
      message: "duplicate node pool name; nodePools[0] is already named 'general'",
    },
    {
      name: "a node expiry Karpenter cannot parse",
      change: (r) => (r.clouds.aws.cluster.nodePools[0].expireAfter = "30d"),
      path: "clouds.aws.cluster.nodePools[0].expireAfter",
      value: "30d",
      message: "a duration such as 30s, 15m or 720h",
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
