import { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import { EksAccessPolicyAssociation } from "@cdktf/provider-aws/lib/eks-access-policy-association";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { ciIdentityName, type CiIdentityKind } from "../../config/ci";
import type { CiSubjects } from "../contract";

/** EKS's access policies, by name; `arn:aws:eks::aws:cluster-access-policy/<name>`. */
export const EKS_ACCESS_POLICIES = {
  clusterAdmin: "AmazonEKSClusterAdminPolicy",
  admin: "AmazonEKSAdminPolicy",
} as const;

/** Kubernetes groups the CI roles' access entries put them in (never `system:`, `eks:`, `aws:` or `iam:`). */
export const CI_KUBERNETES_GROUPS = { deploy: "platform-ci-deploy", review: "platform-ci-review" } as const;

export interface EksCiAccessProps {
  readonly clusterName: string;
  /** The cluster's ARN: the CI roles live in its account and partition. */
  readonly clusterArn: string;
  readonly project: string;
  /** Namespaces of the non-production environments. */
  readonly deployNamespaces: readonly string[];
}

/**
 * The CI roles' access entries, named after the roles aws-bootstrap creates:
 * the production role administers the cluster (it applies the add-ons and
 * the production environments); the deploy role is an administrator of the
 * non-production namespaces only, through EKS's namespace-scoped admin
 * policy, and gets the rest from Kubernetes RBAC by its group; the review
 * role is only a group, which the add-ons let read everything. The plan
 * role, which any pull request's code can use, gets no entry at all.
 */
export class EksCiAccess extends Construct {
  readonly subjects: CiSubjects;
  private readonly props: EksCiAccessProps;

  constructor(scope: Construct, id: string, props: EksCiAccessProps) {
    super(scope, id);
    this.props = props;
    const production = this.entry("production", []);
    this.associate("production", production, EKS_ACCESS_POLICIES.clusterAdmin, { type: "cluster" });

    // A cluster running no non-production environment (production's own) has no entry for the deploy role.
    if (props.deployNamespaces.length > 0) {
      const deploy = this.entry("deploy", [CI_KUBERNETES_GROUPS.deploy]);
      this.associate("deploy", deploy, EKS_ACCESS_POLICIES.admin, { type: "namespace", namespaces: [...props.deployNamespaces] });
    }
    this.entry("review", [CI_KUBERNETES_GROUPS.review]);

    this.subjects = {
      deploy: { kind: "Group", name: CI_KUBERNETES_GROUPS.deploy },
      review: { kind: "Group", name: CI_KUBERNETES_GROUPS.review },
    };
  }

  /** The role's ARN, from its name and the cluster's account: no lookup, so planning needs no IAM call. */
  roleArn(kind: CiIdentityKind): string {
    const [partition, account] = [1, 4].map((index) => Fn.element(Fn.split(":", this.props.clusterArn), index));
    return `arn:${partition}:iam::${account}:role/${ciIdentityName(this.props.project, kind)}`;
  }

  private entry(kind: CiIdentityKind, groups: string[]): EksAccessEntry {
    return new EksAccessEntry(this, kind, {
      clusterName: this.props.clusterName,
      principalArn: this.roleArn(kind),
      type: "STANDARD",
      kubernetesGroups: groups.length > 0 ? groups : undefined,
    });
  }

  private associate(kind: CiIdentityKind, entry: EksAccessEntry, policy: string, accessScope: { type: string; namespaces?: string[] }): void {
    new EksAccessPolicyAssociation(this, `${kind}-policy`, {
      clusterName: this.props.clusterName,
      principalArn: entry.principalArn,
      policyArn: `arn:aws:eks::aws:cluster-access-policy/${policy}`,
      accessScope,
    });
  }
}
