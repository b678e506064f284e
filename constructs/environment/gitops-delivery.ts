import { RoleBindingV1 } from "@cdktf/provider-kubernetes/lib/role-binding-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { stringify } from "yaml";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { repositoryPath } from "./repository-path";

/** Where the environment's manifests come from. */
export interface GitSource {
  readonly url: string;
  readonly branch: string;
  /** Secret in the namespace holding the Git credentials. */
  readonly secretName: string;
  /** Directory of the environment inside the repository, relative to its root. */
  readonly path: string;
  /** Polling interval of the source and the sync. */
  readonly interval: string;
}

export interface GitOpsDeliveryProps {
  readonly namespace: string;
  readonly source: GitSource;
  /** `postBuild.substitute`: `${NAME}` in the manifests becomes the value. */
  readonly substitute: Record<string, string>;
  /** Labels on every object the sync applies. */
  readonly commonLabels: Record<string, string>;
  /** Labels merged into the pod template of every Knative Service. */
  readonly podLabels: Record<string, string>;
  /**
   * ClusterRole the reconciler holds, bound in its own namespace only.
   * @default "admin"
   */
  readonly reconcilerClusterRole?: string;
  readonly dependsOn?: ITerraformDependable[];
}

/** Names of the objects, shared with the image automation that pushes to the same repository. */
export const GITOPS_OBJECTS = { source: "gitops", sync: "apps", reconciler: "gitops-reconciler" } as const;

/** Flux's variable names: letters, digits and `_`, not starting with a digit. */
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Flux delivery into one namespace: a GitRepository and a Kustomization that
 * applies `path`, prunes what leaves Git and impersonates a service account
 * bound to `admin` in this namespace only. A manifest in the staging
 * directory that names the production namespace is refused by the API server.
 */
export class GitOpsDelivery extends Construct {
  readonly gitRepository: KubernetesObject;
  readonly kustomization: KubernetesObject;
  readonly release: ManifestsRelease;
  readonly reconciler: ServiceAccountV1;

  constructor(scope: Construct, id: string, props: GitOpsDeliveryProps) {
    super(scope, id);
    const { namespace, source } = props;
    for (const [name, value] of Object.entries(props.substitute)) {
      if (!VARIABLE.test(name)) throw new Error(`${this.node.path}: '${name}' is not a Flux substitution variable name`);
      if (typeof value !== "string") throw new Error(`${this.node.path}: substitution ${name} must be a string, got ${typeof value}`);
    }

    this.reconciler = new ServiceAccountV1(this, "reconciler", {
      metadata: { name: GITOPS_OBJECTS.reconciler, namespace },
      automountServiceAccountToken: false,
      dependsOn: props.dependsOn,
    });
    const binding = new RoleBindingV1(this, "reconciler-binding", {
      metadata: { name: GITOPS_OBJECTS.reconciler, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: props.reconcilerClusterRole ?? "admin" },
      subject: [{ kind: "ServiceAccount", name: GITOPS_OBJECTS.reconciler, namespace }],
      dependsOn: [this.reconciler],
    });

    const path = repositoryPath(source.path);
    this.gitRepository = {
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: GITOPS_OBJECTS.source, namespace },
      spec: {
        interval: source.interval,
        url: source.url,
        ref: { branch: source.branch },
        secretRef: { name: source.secretName },
      },
    };
    this.kustomization = {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name: GITOPS_OBJECTS.sync, namespace },
      spec: {
        interval: source.interval,
        sourceRef: { kind: "GitRepository", name: GITOPS_OBJECTS.source },
        path,
        prune: true,
        targetNamespace: namespace,
        serviceAccountName: GITOPS_OBJECTS.reconciler,
        timeout: "5m",
        commonMetadata: { labels: props.commonLabels },
        patches: [
          {
            target: { group: "serving.knative.dev", kind: "Service" },
            patch: stringify({
              apiVersion: "serving.knative.dev/v1",
              kind: "Service",
              metadata: { name: "not-used" },
              spec: { template: { metadata: { labels: props.podLabels } } },
            }),
          },
        ],
        postBuild: { substitute: props.substitute },
      },
    };
    this.release = new ManifestsRelease(this, "manifests", {
      name: `${namespace}-gitops`,
      namespace,
      manifests: [this.gitRepository, this.kustomization],
      dependsOn: [binding, ...(props.dependsOn ?? [])],
    });
  }
}
