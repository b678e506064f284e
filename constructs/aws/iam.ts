import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Fn, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: Record<string, string | string[]>;
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * Any statement IAM accepts: with `NotAction` instead of `Action`, and without
 * `Resource` in a trust policy.
 */
export type IamStatement = Omit<PolicyStatement, "Action" | "Resource"> & { readonly Resource?: string | string[]; readonly NotResource?: string | string[] } & (
    | { readonly Action: string | string[]; readonly NotAction?: undefined }
    | { readonly NotAction: string | string[]; readonly Action?: undefined }
  );

/** A policy document; `Fn.jsonencode` keeps cross-resource references intact. */
export function policyDocument(statements: readonly IamStatement[]): string {
  return Fn.jsonencode({ Version: "2012-10-17", Statement: statements });
}

export interface ServiceRoleProps {
  readonly name: string;
  /** The trust policy's single statement, or a whole trust policy document. */
  readonly trust: Record<string, unknown> | string;
  /** AWS managed policy names, without the `arn:aws:iam::aws:policy/` prefix. */
  readonly managedPolicies?: string[];
  /** An inline policy with these statements. */
  readonly statements?: PolicyStatement[];
}

/** An IAM role assumed by a service or a workload, with its permissions. */
export class ServiceRole extends Construct {
  readonly role: IamRole;
  /** The role and its policies: what a resource using the role must wait for. */
  readonly dependables: ITerraformDependable[] = [];

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, "role", {
      name: props.name,
      assumeRolePolicy: typeof props.trust === "string" ? props.trust : Fn.jsonencode({ Version: "2012-10-17", Statement: [props.trust] }),
    });
    this.dependables.push(this.role);
    for (const policy of props.managedPolicies ?? []) this.attachManagedPolicy(policy);
    if (props.statements && props.statements.length > 0) {
      this.addInlinePolicy(props.name, props.statements);
    }
  }

  /** Attaches an AWS managed policy, by name without the `arn:aws:iam::aws:policy/` prefix. */
  attachManagedPolicy(policy: string): void {
    this.dependables.push(new IamRolePolicyAttachment(this, policy, { role: this.role.name, policyArn: `arn:aws:iam::aws:policy/${policy}` }));
  }

  /** Adds an inline policy; `name` is unique within the role. */
  addInlinePolicy(name: string, statements: PolicyStatement[]): void {
    this.dependables.push(new IamRolePolicy(this, `policy-${name}`, { role: this.role.id, name, policy: policyDocument(statements) }));
  }

  get arn(): string {
    return this.role.arn;
  }
}

/** Trust for an AWS service principal such as `eks.amazonaws.com`. */
export function trustService(service: string): Record<string, unknown> {
  return { Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" };
}

/** Session tags EKS Pod Identity sets on the sessions it starts (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html). */
export const POD_IDENTITY_SESSION_TAGS = { cluster: "eks-cluster-name", namespace: "kubernetes-namespace", serviceAccount: "kubernetes-service-account" } as const;

/**
 * Trust for EKS Pod Identity associations. With `only`, the role can be
 * assumed for that service account of that cluster alone, whatever
 * association names it: the trust checks the session tags Pod Identity sets.
 */
export function trustPodIdentity(only?: { readonly clusterName: string; readonly namespace: string; readonly serviceAccount: string }): Record<string, unknown> {
  const trust = { Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] };
  if (!only) return trust;
  const tag = (name: string) => `aws:RequestTag/${name}`;
  return {
    ...trust,
    Condition: {
      StringEquals: {
        [tag(POD_IDENTITY_SESSION_TAGS.cluster)]: only.clusterName,
        [tag(POD_IDENTITY_SESSION_TAGS.namespace)]: only.namespace,
        [tag(POD_IDENTITY_SESSION_TAGS.serviceAccount)]: only.serviceAccount,
      },
    },
  };
}

/**
 * Trust for one Kubernetes service account through the cluster's OIDC provider
 * (IRSA). A policy document data source, evaluated locally by Terraform, because
 * the condition keys contain the issuer and cannot be object keys in
 * `jsonencode`.
 */
export function trustServiceAccount(scope: Construct, id: string, oidcProviderArn: string, issuerUrl: string, namespace: string, serviceAccount: string): string {
  const issuer = Fn.replace(issuerUrl, "https://", "");
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: [
      {
        effect: "Allow",
        actions: ["sts:AssumeRoleWithWebIdentity"],
        principals: [{ type: "Federated", identifiers: [oidcProviderArn] }],
        condition: [
          { test: "StringEquals", variable: `${issuer}:sub`, values: [`system:serviceaccount:${namespace}:${serviceAccount}`] },
          { test: "StringEquals", variable: `${issuer}:aud`, values: ["sts.amazonaws.com"] },
        ],
      },
    ],
  }).json;
}
