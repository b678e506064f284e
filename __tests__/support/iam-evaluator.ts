/**
 * AWS's policy evaluation for requests within one account, as far as the
 * platform's policies need it (docs.aws.amazon.com, IAM User Guide, "Policy
 * evaluation logic"; AWS KMS Developer Guide, "Key policies"):
 *
 * - an explicit Deny in any policy wins;
 * - otherwise an Allow in the principal's identity policies, or in the
 *   resource's policy naming the principal, allows;
 * - a resource policy naming the account (`arn:aws:iam::<account>:root`)
 *   delegates to IAM: it allows only where an identity policy allows too;
 * - a KMS key is the exception: only its key policy can allow, by naming the
 *   principal or by delegating to the account; an identity policy alone
 *   never does.
 *
 * Conditions: the String, Arn and Bool operators (with `IfExists`), keys
 * case-insensitive, a missing key failing the condition. An operator it does
 * not know is an error rather than a guess.
 */

export interface PolicyDocument {
  readonly Statement: readonly Statement[] | Statement;
}

interface Statement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | Record<string, string | string[]>;
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface Request {
  /** An IAM role or user ARN, or a service principal (`cloudwatch.amazonaws.com`). */
  readonly principal: string;
  readonly account: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
}

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

const list = <T>(value: T | readonly T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T]);
const statements = (policy: PolicyDocument | undefined): Statement[] => list(policy?.Statement);

function glob(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${escaped}$`, caseInsensitive ? "i" : "").test(value);
}

const actionMatches = (s: Statement, action: string): boolean =>
  s.Action !== undefined ? list(s.Action).some((a) => glob(a, action, true)) : !list(s.NotAction).some((a) => glob(a, action, true));

const resourceMatches = (s: Statement, resource: string): boolean =>
  s.Resource !== undefined ? list(s.Resource).some((r) => glob(r, resource, false)) : !list(s.NotResource).some((r) => glob(r, resource, false));

/** Whether a resource policy's statement names the principal: `direct`, through the account (`account`), or not. */
function principalMatch(s: Statement, request: Request): "direct" | "account" | "none" {
  if (s.Principal === "*") return "direct";
  const isService = !request.principal.startsWith("arn:");
  if (isService) return list(s.Principal?.Service).includes(request.principal) ? "direct" : "none";
  const named = list(s.Principal?.AWS);
  if (named.includes("*") || named.includes(request.principal)) return "direct";
  const root = new RegExp(`^(arn:aws:iam::${request.account}:root|${request.account})$`);
  return named.some((p) => root.test(p)) ? "account" : "none";
}

function conditionsHold(s: Statement, context: Record<string, string>): boolean {
  const lower = Object.fromEntries(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(s.Condition ?? {}).every(([operator, entries]) => {
    const ifExists = operator.endsWith("IfExists");
    const base = ifExists ? operator.slice(0, -"IfExists".length) : operator;
    return Object.entries(entries).every(([key, expected]) => {
      const actual = lower[key.toLowerCase()];
      if (actual === undefined) return ifExists;
      const values = list(expected).map(String);
      switch (base) {
        case "StringEquals":
        case "ArnEquals":
          return values.includes(actual);
        case "StringNotEquals":
          return !values.includes(actual);
        case "StringEqualsIgnoreCase":
          return values.some((v) => v.toLowerCase() === actual.toLowerCase());
        case "StringLike":
        case "ArnLike":
          return values.some((v) => glob(v, actual, false));
        case "Bool":
          return values.includes(actual);
        default:
          throw new Error(`condition operator ${operator} is not known to this evaluator`);
      }
    });
  });
}

/** The decision for one request under the principal's identity policies and the resource's policy. */
export function evaluate(request: Request, identityPolicies: readonly PolicyDocument[], resourcePolicy?: PolicyDocument): Decision {
  const context = request.context ?? {};
  const applies = (s: Statement) => actionMatches(s, request.action) && resourceMatches(s, request.resource) && conditionsHold(s, context);
  const identity = identityPolicies.flatMap(statements).filter(applies);
  const resource = statements(resourcePolicy).filter((s) => applies(s) && principalMatch(s, request) !== "none");
  if ([...identity, ...resource].some((s) => s.Effect === "Deny")) return "ExplicitlyDenied";
  const identityAllows = identity.some((s) => s.Effect === "Allow");
  const resourceAllows = (how: "direct" | "account") => resource.some((s) => s.Effect === "Allow" && principalMatch(s, request) === how);
  const isKey = request.action.toLowerCase().startsWith("kms:");
  const allowed = isKey
    ? resourceAllows("direct") || (resourceAllows("account") && identityAllows)
    : resourceAllows("direct") || identityAllows;
  return allowed ? "Allowed" : "ImplicitlyDenied";
}
