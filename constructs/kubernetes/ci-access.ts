import { ClusterRoleBindingV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-binding-v1";
import { ClusterRoleV1, type ClusterRoleV1Rule } from "@cdktf/provider-kubernetes/lib/cluster-role-v1";
import { RoleBindingV1 } from "@cdktf/provider-kubernetes/lib/role-binding-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { RbacSubject } from "../contract";

/** The ClusterRole an environment namespace binds to the identity that deploys it. */
export const ENVIRONMENT_DEPLOYER_ROLE = "platform:ci-environment-deployer";
/** Creating environment namespaces, and changing the non-production ones. */
export const ENVIRONMENT_NAMESPACES_ROLE = "platform:ci-environment-namespaces";
/** Reading everything, Helm's release records (Secrets) included. */
export const REVIEW_ROLE = "platform:ci-review";

const ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"];

/**
 * Everything an environment stack writes inside its namespace, whatever the
 * cloud's own namespace-scoped grant already covers: quotas and limit
 * ranges (which Kubernetes' `admin` role leaves out), service accounts,
 * network policies, role bindings, Helm's release records, and the custom
 * resources of its releases (External Secrets, Flux sources, syncs and
 * image automation). Tests read every kind the environment stacks create
 * and fail when one is missing here.
 */
export const ENVIRONMENT_DEPLOYER_RULES: readonly { readonly apiGroups: string[]; readonly resources: string[]; readonly verbs: string[] }[] = [
  { apiGroups: [""], resources: ["resourcequotas", "limitranges", "serviceaccounts", "secrets", "configmaps"], verbs: ALL_VERBS },
  { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ALL_VERBS },
  { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: ALL_VERBS },
  { apiGroups: ["external-secrets.io"], resources: ["externalsecrets", "secretstores"], verbs: ALL_VERBS },
  { apiGroups: ["source.toolkit.fluxcd.io"], resources: ["gitrepositories", "ocirepositories"], verbs: ALL_VERBS },
  { apiGroups: ["kustomize.toolkit.fluxcd.io"], resources: ["kustomizations"], verbs: ALL_VERBS },
  { apiGroups: ["image.toolkit.fluxcd.io"], resources: ["imagerepositories", "imagepolicies", "imageupdateautomations"], verbs: ALL_VERBS },
  // Webhook Receivers and the generator of their token (gitops.receivers).
  { apiGroups: ["notification.toolkit.fluxcd.io"], resources: ["receivers"], verbs: ALL_VERBS },
  { apiGroups: ["generators.external-secrets.io"], resources: ["passwords"], verbs: ALL_VERBS },
];

/** What the environment stack that carries pull-request previews writes besides: input providers, ResourceSets and their GitHub notifications. */
export const PREVIEW_DEPLOYER_RULES: typeof ENVIRONMENT_DEPLOYER_RULES = [
  { apiGroups: ["fluxcd.controlplane.io"], resources: ["resourcesetinputproviders", "resourcesets"], verbs: ALL_VERBS },
  { apiGroups: ["notification.toolkit.fluxcd.io"], resources: ["providers", "alerts"], verbs: ALL_VERBS },
  // Each preview database's keep-alive and the cleanup.
  { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: ALL_VERBS },
];

/**
 * ClusterRoles an environment namespace's role bindings may name: the
 * deployer role above, and Kubernetes' `admin`, which the GitOps reconciler
 * gets in its namespace (binding a role needs `bind` on it, or holding all
 * of it).
 */
export const BINDABLE_ROLES = [ENVIRONMENT_DEPLOYER_ROLE, "admin"];

export interface CiClusterAccessProps {
  /** The identity that deploys the non-production environments. */
  readonly deploy: RbacSubject;
  /** The identity that plans before a production approval. */
  readonly review: RbacSubject;
  /** Namespaces of the non-production environments: the only ones the deploy identity may change or delete. */
  readonly deployNamespaces: readonly string[];
  /**
   * The deploy identity also writes pull-request previews (PREVIEW_DEPLOYER_RULES).
   * @default false
   */
  readonly previews?: boolean;
}

/**
 * The cluster-wide half of the CI identities' Kubernetes access, applied by
 * the production identity with the add-ons. The deploy identity may create
 * namespaces (Kubernetes cannot restrict `create` by name), read, change and
 * delete only its own, and bind the environment roles in namespaces where
 * the cloud lets it create role bindings (its own). The review identity
 * reads everything; Helm keeps a release's records in Secrets, so a plan of
 * an in-cluster stack cannot do with less.
 */
export class CiClusterAccess extends Construct {
  constructor(scope: Construct, id: string, props: CiClusterAccessProps) {
    super(scope, id);
    // A cluster running no non-production environment (production's own)
    // gives the deploy identity nothing: not even namespaces to create.
    if (props.deployNamespaces.length > 0) this.deployAccess(props.deploy, props.deployNamespaces, props.previews ?? false);
    this.reviewAccess(props.review);
  }

  private deployAccess(deploy: RbacSubject, deployNamespaces: readonly string[], previews: boolean): void {
    const deployer = new ClusterRoleV1(this, "environment-deployer", {
      metadata: { name: ENVIRONMENT_DEPLOYER_ROLE, labels: { "app.kubernetes.io/managed-by": "cdktf" } },
      rule: [...ENVIRONMENT_DEPLOYER_RULES, ...(previews ? PREVIEW_DEPLOYER_RULES : [])].map((rule) => ({ ...rule }) as ClusterRoleV1Rule),
    });
    const namespaceRules: ClusterRoleV1Rule[] = [
      { apiGroups: [""], resources: ["namespaces"], verbs: ["create"] },
      { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind"], resourceNames: BINDABLE_ROLES },
    ];
    namespaceRules.splice(1, 0, { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "update", "patch", "delete"], resourceNames: [...deployNamespaces] });
    const namespaces = new ClusterRoleV1(this, "environment-namespaces", {
      metadata: { name: ENVIRONMENT_NAMESPACES_ROLE, labels: { "app.kubernetes.io/managed-by": "cdktf" } },
      rule: namespaceRules,
      dependsOn: [deployer],
    });
    new ClusterRoleBindingV1(this, "environment-namespaces-binding", {
      metadata: { name: ENVIRONMENT_NAMESPACES_ROLE },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: ENVIRONMENT_NAMESPACES_ROLE },
      subject: [subjectOf(deploy)],
      dependsOn: [namespaces],
    });
  }

  private reviewAccess(subject: RbacSubject): void {
    const review = new ClusterRoleV1(this, "review", {
      metadata: { name: REVIEW_ROLE, labels: { "app.kubernetes.io/managed-by": "cdktf" } },
      rule: [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "watch"] }],
    });
    new ClusterRoleBindingV1(this, "review-binding", {
      metadata: { name: REVIEW_ROLE },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: REVIEW_ROLE },
      subject: [subjectOf(subject)],
      dependsOn: [review],
    });
  }
}

export interface CiNamespaceAccessProps {
  readonly namespace: string;
  /** The identity that deploys this environment. */
  readonly deployer: RbacSubject;
  readonly dependsOn: ITerraformDependable[];
}

/**
 * The namespace half, created by the environment stack right after its
 * namespace: the deploying identity binds itself the environment deployer
 * role there. The cloud's namespace-scoped grant is what lets it create
 * this binding, and only in its own namespaces.
 */
export class CiNamespaceAccess extends Construct {
  readonly binding: RoleBindingV1;

  constructor(scope: Construct, id: string, props: CiNamespaceAccessProps) {
    super(scope, id);
    this.binding = new RoleBindingV1(this, "binding", {
      metadata: { name: "platform-ci-deployer", namespace: props.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: ENVIRONMENT_DEPLOYER_ROLE },
      subject: [subjectOf(props.deployer)],
      dependsOn: props.dependsOn,
    });
  }
}

function subjectOf(subject: RbacSubject): { kind: string; name: string; apiGroup: string } {
  return { kind: subject.kind, name: subject.name, apiGroup: "rbac.authorization.k8s.io" };
}
