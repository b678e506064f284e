import { z } from "zod";
import { parseIpv4Network } from "./cidr";
import { ipv4Cidr } from "./common";

/**
 * GitHub's rules for names: an owner is 1-39 letters, digits and single
 * hyphens, not at either end; a repository is letters, digits, '.', '-' and
 * '_', at most 100, and not '.' or '..'.
 */
const GITHUB_REPOSITORY = /^(?!-)(?!.*--)[A-Za-z0-9-]{1,39}(?<!-)\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;

/** GitHub's numeric ids are positive whole numbers. */
const githubId = z.number().int().positive();

/** Which `sub` claim the repository's OIDC tokens carry (docs/bootstrap.md, "Which subject format"). */
export const SUBJECT_FORMATS = ["name", "immutable", "both"] as const;
export type SubjectFormat = (typeof SUBJECT_FORMATS)[number];

export const ciSchema = z
  .object({
    repository: z
      .string()
      .regex(GITHUB_REPOSITORY, { message: "a GitHub repository as owner/name, such as acme/platform-infra" })
      .describe("The GitHub repository whose workflows plan and deploy this platform, as owner/name, spelled as GitHub shows it (the OIDC subject is case-sensitive)."),
    repositoryIds: z
      .object({
        owner: githubId.describe("Numeric id of the repository's owner (user or organization)."),
        repository: githubId.describe("Numeric id of the repository."),
      })
      .strict()
      .optional()
      .describe("GitHub's immutable owner and repository ids, which the newer OIDC subject format embeds (repo:owner@<id>/name@<id>:...)."),
    subjectFormat: z
      .enum(SUBJECT_FORMATS)
      .optional()
      .describe(
        "The OIDC subject format the repository's tokens carry: name (repo:owner/name:...), immutable (repo:owner@id/name@id:...), or both while moving from one to the other. Default: immutable when repositoryIds is set, name otherwise.",
      ),
    runnerIpRanges: z
      .array(ipv4Cidr)
      .optional()
      .describe(
        "Public egress ranges of the runners that plan and apply (self-hosted, or larger runners with static addresses); [] when they run inside the VNet's nodes subnet. Required with clouds.azure: the Azure data stacks read Key Vault while planning, and the vault's firewall admits these ranges besides keyVault.allowedIpRanges.",
      ),
  })
  .strict();

export type CiConfig = z.infer<typeof ciSchema>;

/** The format in force: the configured one, else immutable when the ids are known. */
export function subjectFormat(ci: CiConfig): SubjectFormat {
  return ci.subjectFormat ?? (ci.repositoryIds ? "immutable" : "name");
}

/**
 * The four CI identities each cloud gets, and the one kind of job each
 * trusts: pull requests plan read-only; the review of `main` (before a
 * production approval) reads everything, writes nothing; deploy applies the
 * non-production stacks from `main`; production applies the production
 * stacks, only inside the `production` environment, after an approval.
 */
export const CI_IDENTITIES = ["plan", "review", "deploy", "production"] as const;
export type CiIdentityKind = (typeof CI_IDENTITIES)[number];

/** The branch the deploy workflow runs on. */
export const DEPLOY_BRANCH = "main";
/** The GitHub environment whose required reviewers gate production. */
export const PRODUCTION_ENVIRONMENT = "production";

/** The part of the subject after the repository, per identity. */
const SUBJECT_CONTEXT: Record<CiIdentityKind, string> = {
  plan: "pull_request",
  review: `ref:refs/heads/${DEPLOY_BRANCH}`,
  deploy: `ref:refs/heads/${DEPLOY_BRANCH}`,
  production: `environment:${PRODUCTION_ENVIRONMENT}`,
};

/** `repo:owner/name` and/or `repo:owner@id/name@id`, as the configured format says. */
export function subjectRepositories(ci: CiConfig): string[] {
  const [owner, name] = ci.repository.split("/");
  const byName = `repo:${owner}/${name}`;
  const ids = ci.repositoryIds;
  const immutable = ids ? `repo:${owner}@${ids.owner}/${name}@${ids.repository}` : undefined;
  switch (subjectFormat(ci)) {
    case "name":
      return [byName];
    case "immutable":
      return [immutable!];
    case "both":
      return [immutable!, byName];
  }
}

/** Every `sub` claim an identity accepts: one per subject format in force. */
export function ciSubjects(ci: CiConfig, kind: CiIdentityKind): string[] {
  return subjectRepositories(ci).map((repository) => `${repository}:${SUBJECT_CONTEXT[kind]}`);
}

/** Name of an identity (IAM role, managed identity): the platform finds it by this name. */
export function ciIdentityName(project: string, kind: CiIdentityKind): string {
  return `${project}-ci-${kind}`;
}

/** Alias (without `alias/`) of the KMS key aws-bootstrap encrypts the state with. */
export function stateKeyAlias(project: string): string {
  return `${project}/terraform-state`;
}

/** The parts of a configuration the CI rules read. */
interface CiRulesInput {
  readonly project: string;
  readonly ci?: CiConfig;
  readonly clouds: {
    readonly aws?: {
      readonly stateBackend?: { readonly kmsKeyId?: string; readonly bootstrapStateInBackend?: boolean };
      readonly cluster: { readonly adminPrincipalArns: readonly string[]; readonly bootstrapCreatorAdmin?: boolean };
    };
    readonly azure?: {
      readonly stateBackend?: { readonly bootstrapStateInBackend?: boolean };
      readonly cluster: { readonly adminGroupObjectIds: readonly string[] };
    };
  };
}

type Issue = (path: (string | number)[], input: unknown, message: string) => void;

/**
 * With `ci`, each cloud needs its state storage named (the bootstrap creates
 * it) and at least one administrator besides the CI identities, who are
 * granted explicitly and never through whoever applies.
 */
export function checkCi(config: CiRulesInput, ctx: z.RefinementCtx): void {
  const issue: Issue = (path, input, message) => ctx.addIssue({ code: "custom", path, input, message });
  const { ci, clouds } = config;
  if (!ci) {
    for (const cloud of ["aws", "azure"] as const) {
      if (clouds[cloud]?.stateBackend?.bootstrapStateInBackend !== undefined) {
        issue(["clouds", cloud, "stateBackend", "bootstrapStateInBackend"], clouds[cloud]!.stateBackend!.bootstrapStateInBackend, `concerns the state of ${cloud}-bootstrap, which exists only when ci is set`);
      }
    }
    return;
  }
  const format = subjectFormat(ci);
  if (format !== "name" && ci.repositoryIds === undefined) {
    issue(["ci", "repositoryIds"], undefined, `required for subjectFormat ${format}: the owner and repository ids GitHub puts in the subject (docs/bootstrap.md, 'Which subject format')`);
  }
  const aws = clouds.aws;
  if (aws) {
    if (!aws.stateBackend) {
      issue(["clouds", "aws", "stateBackend"], undefined, "required with ci: aws-bootstrap creates this bucket, and the CI roles keep every stack's state in it");
    } else if (aws.stateBackend.kmsKeyId !== undefined) {
      issue(["clouds", "aws", "stateBackend", "kmsKeyId"], aws.stateBackend.kmsKeyId, `aws-bootstrap creates the state's key (alias/${stateKeyAlias(config.project)}); leave kmsKeyId out`);
    }
    if (aws.cluster.adminPrincipalArns.length === 0) {
      issue(["clouds", "aws", "cluster", "adminPrincipalArns"], undefined, "list at least one administrator role: with ci the cluster admits the CI roles and these principals, nobody else");
    }
    if (aws.cluster.bootstrapCreatorAdmin === true) {
      issue(["clouds", "aws", "cluster", "bootstrapCreatorAdmin"], true, "with ci the production role gets its cluster access explicitly; an implicit entry for whoever creates the cluster would collide with it: leave it out or set false");
    }
  }
  (ci.runnerIpRanges ?? []).forEach((cidr, i) => {
    if (parseIpv4Network(cidr)?.prefixLength === 0) issue(["ci", "runnerIpRanges", i], cidr, "the vault's firewall is never open to the whole internet; list the runners' egress ranges");
  });
  const azure = clouds.azure;
  if (azure && ci.runnerIpRanges === undefined) {
    issue(
      ["ci", "runnerIpRanges"],
      undefined,
      "required with clouds.azure: the Azure data stacks read Key Vault while planning, which its firewall refuses from GitHub-hosted runners; list your runners' static egress ranges, or [] when they run in the VNet's nodes subnet (docs/azure.md, 'Key Vault and where Terraform runs')",
    );
  }
  if (azure) {
    if (!azure.stateBackend) {
      issue(["clouds", "azure", "stateBackend"], undefined, "required with ci: azure-bootstrap creates this storage account and container, and the CI identities keep every stack's state in it");
    }
    if (azure.cluster.adminGroupObjectIds.length === 0) {
      issue(["clouds", "azure", "cluster", "adminGroupObjectIds"], undefined, "list at least one administrator group: with ci the cluster admits the CI identities and these groups, nobody else");
    }
  }
}

/** With `ci`, the S3 backend encrypts with the key aws-bootstrap creates. */
export function resolveCiClouds<C extends { readonly project: string; readonly ci?: CiConfig; readonly clouds: { readonly aws?: { readonly stateBackend?: { readonly kmsKeyId?: string } } } }>(
  config: C,
): C["clouds"] {
  const aws = config.clouds.aws;
  if (!config.ci || !aws?.stateBackend) return config.clouds;
  return { ...config.clouds, aws: { ...aws, stateBackend: { ...aws.stateBackend, kmsKeyId: `alias/${stateKeyAlias(config.project)}` } } };
}
