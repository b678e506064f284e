/**
 * The subject (`sub`) of a GitHub Actions OIDC token, which every trust
 * condition (AWS `token.actions.githubusercontent.com:sub`, an Entra
 * federated credential's subject) must match exactly. GitHub has two default
 * forms: the name form `repo:<owner>/<repo>:<context>`, and the immutable
 * form, which adds the owner's and the repository's numeric ids to the prefix
 * (repositories created, renamed or transferred after GitHub's change, and
 * those that opted in). GitHub's own examples of the immutable prefix differ
 * in the separator, so the prefix is read from a real token, never rebuilt.
 */

/** The claims of a token this module reads. */
export interface TokenClaims {
  readonly sub: string;
  /** `<owner>/<repo>` */
  readonly repository: string;
  readonly repository_id: string;
  readonly repository_owner_id: string;
}

export type SubjectFormat = "name" | "immutable" | "custom";

export interface SubjectReading {
  readonly sub: string;
  readonly format: SubjectFormat;
  /** `repo:<...>`: the part a trust condition repeats before the context. */
  readonly prefix: string;
  /** `pull_request`, `ref:refs/heads/main`, `environment:production`. */
  readonly context: string;
}

/** Which form a token's subject has, read against the token's own repository claims. */
export function readSubject(claims: TokenClaims): SubjectReading {
  const { sub } = claims;
  const named = `repo:${claims.repository}:`;
  if (sub.startsWith(named)) return { sub, format: "name", prefix: named.slice(0, -1), context: sub.slice(named.length) };
  // The repository segment holds no colon: `repo:` + segment + `:` + context.
  const match = /^(repo:[^:]+):(.+)$/.exec(sub);
  if (match) {
    const segment = match[1];
    const [owner, name] = claims.repository.split("/");
    const hasIds = segment.includes(claims.repository_owner_id) && segment.includes(claims.repository_id);
    if (hasIds && segment.includes(owner) && segment.includes(name)) return { sub, format: "immutable", prefix: segment, context: match[2] };
  }
  // A customized subject template (the OIDC customization API) follows none of the defaults.
  return { sub, format: "custom", prefix: "", context: "" };
}

/** The payload of a JWT, without checking its signature (the cloud checks it; this only reads the claims). */
export function tokenClaims(jwt: string): Record<string, unknown> {
  const parts = jwt.split(".");
  if (parts.length !== 3) throw new Error("not a JWT");
  return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
}

/** The lines a job prints when a login failed: the subject its token really has, and what to trust. */
export function subjectReport(reading: SubjectReading, cloud: "aws" | "azure"): string[] {
  const where =
    cloud === "aws"
      ? "the role's trust policy condition token.actions.githubusercontent.com:sub"
      : "the subject of a federated credential of the identity (scenario 'Other issuer', issuer https://token.actions.githubusercontent.com)";
  if (reading.format === "custom") {
    return [`This job's OIDC subject is ${reading.sub}: a customized subject template, not one of GitHub's default forms.`, `Trust exactly this subject in ${where}.`];
  }
  return [
    `This job's OIDC subject is ${reading.sub} (${reading.format === "name" ? "name form" : "immutable form, with the owner and repository ids"}).`,
    `Trust exactly this subject in ${where}; the other jobs' subjects begin with the same ${reading.prefix}.`,
  ];
}
