import type { Construct } from "constructs";
import { IN_CLUSTER, type SecretStoreProvider, type WorkloadIdentity } from "../contract";
import { ManifestsRelease } from "../kubernetes/manifests-release";
import { HELM_KEEP } from "./flux";
import { addonBase, HelmAddon, type AddonOptions } from "./helm-addon";

/** Name of the cluster-wide store every ExternalSecret of the platform reads from. */
export const CLUSTER_SECRET_STORE = "platform";
/** The release, whose name the chart puts on the controller's pods (`app.kubernetes.io/instance`). */
export const EXTERNAL_SECRETS_RELEASE = "external-secrets";

export interface ExternalSecretsProps extends AddonOptions {
  /** Identity of the operator's controller. */
  readonly identity: WorkloadIdentity;
  /** `spec.provider` of the ClusterSecretStore, authenticated by workload identity. */
  readonly provider: SecretStoreProvider;
  /**
   * The only namespaces whose ExternalSecrets may read through the store. The
   * store's cloud identity reads platform secrets, so an environment namespace
   * must never reach them; environments use their own namespaced stores.
   */
  readonly namespaces: string[];
}

/**
 * External Secrets Operator and the ClusterSecretStore backed by the cloud's
 * secret service. The controller authenticates as a workload identity, so no
 * cloud credential exists in the cluster or in Terraform state.
 */
export class ExternalSecretsAddon extends HelmAddon {
  /** The ClusterSecretStore, applied once the operator's CRDs exist. */
  readonly store: ManifestsRelease;

  constructor(scope: Construct, id: string, props: ExternalSecretsProps) {
    super(scope, id, {
      ...addonBase(props),
      dependsOn: props.dependsOn,
      chart: "external-secrets",
      releaseName: EXTERNAL_SECRETS_RELEASE,
      namespace: IN_CLUSTER.externalSecrets.namespace,
      values: {
        installCRDs: true,
        // These CRDs are templates of the chart, so an uninstall would delete
        // them and every ExternalSecret with them.
        crds: { annotations: HELM_KEEP },
        serviceAccount: {
          create: true,
          name: IN_CLUSTER.externalSecrets.serviceAccount,
          annotations: props.identity.serviceAccountAnnotations,
        },
        podLabels: props.identity.podLabels,
      },
    });
    if (props.namespaces.length === 0) {
      throw new Error(`${this.node.path}: namespaces must name at least one namespace; a ClusterSecretStore without conditions serves every namespace`);
    }
    this.store = new ManifestsRelease(this, "store", {
      name: "cluster-secret-store",
      namespace: IN_CLUSTER.externalSecrets.namespace,
      manifests: [
        {
          apiVersion: "external-secrets.io/v1",
          kind: "ClusterSecretStore",
          metadata: { name: CLUSTER_SECRET_STORE },
          spec: { provider: props.provider, conditions: [{ namespaces: [...props.namespaces] }] },
        },
      ],
      dependsOn: [this.release],
    });
  }
}
