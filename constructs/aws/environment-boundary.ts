import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Construct, type IConstruct } from "constructs";
import { policyDocument, type IamStatement } from "./iam";

/** The managed policy every role the deploy identity creates must carry as its permissions boundary. */
export const environmentBoundaryName = (project: string): string => `${project}-environment-boundary`;

/** Any account's boundary of this project, as the deploy role's conditions name it. */
export const environmentBoundaryArnPattern = (project: string): string => `arn:aws:iam::*:policy/${environmentBoundaryName(project)}`;

export interface EnvironmentBoundaryProps {
  readonly project: string;
  /** Names of the environments the deploy identity applies (the non-production ones). */
  readonly environments: readonly string[];
  /** Values of the `environment` tag the roles must never touch: `platform` and the production environments. */
  readonly protectedEnvironments: readonly string[];
}

/**
 * The most a role of a non-production environment may ever do, whatever
 * policies the deploy identity gives it: no IAM and no role chaining (so the
 * deploy identity cannot make itself a stronger role), nothing tagged for the
 * platform or production, and no bucket but the environments' own.
 */
export function environmentBoundaryStatements(props: EnvironmentBoundaryProps): IamStatement[] {
  const buckets = props.environments.map((environment) => `arn:aws:s3:::${props.project}-${environment}-*`);
  return [
    { Sid: "WithinTheRolesOwnPolicies", Effect: "Allow", Action: "*", Resource: "*" },
    {
      Sid: "NoIdentityChanges",
      Effect: "Deny",
      Action: ["iam:*", "sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "organizations:*", "account:*"],
      Resource: "*",
    },
    {
      Sid: "NothingOfPlatformOrProduction",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { StringEquals: { "aws:ResourceTag/environment": [...props.protectedEnvironments] } },
    },
    // S3 evaluates no bucket tags for object requests: the environments' buckets by name.
    { Sid: "OwnBucketsOnly", Effect: "Deny", Action: "s3:*", NotResource: [...buckets, ...buckets.map((bucket) => `${bucket}/*`)] },
  ];
}

/** The boundary policy, created with the platform by the production identity. */
export class EnvironmentBoundary extends Construct {
  readonly policy: IamPolicy;

  constructor(scope: Construct, id: string, props: EnvironmentBoundaryProps) {
    super(scope, id);
    this.policy = new IamPolicy(this, "policy", {
      name: environmentBoundaryName(props.project),
      description: "Permissions boundary of every role the CI deploy identity creates (docs/bootstrap.md)",
      policy: policyDocument(environmentBoundaryStatements(props)),
    });
  }
}

/**
 * Puts the boundary on every IAM role of a stack. Called once the stack is
 * built, before synthesis: a reference to another stack's resource becomes a
 * remote state read only when it is in place before cdktf prepares the
 * stacks, which an aspect (invoked later) would miss.
 */
export function applyPermissionsBoundary(stack: IConstruct, boundaryArn: string): void {
  for (const node of stack.node.findAll()) if (node instanceof IamRole) node.permissionsBoundary = boundaryArn;
}
