/**
 * The small, cloud-agnostic contract between a cloud platform (AWS or Azure)
 * and everything that runs inside its cluster. Add-on and environment stacks
 * take only these interfaces; each cloud fills them with its own values.
 * Values may be Terraform tokens that resolve to another stack's outputs.
 */

import type { ChartName } from "./addons/charts";
import type { Values } from "./addons/values";
import type { KubernetesObject } from "./kubernetes/manifests-release";

/** A client.authentication.k8s.io exec plugin: short-lived tokens, nothing stored in state. */
export interface ExecCredential {
  readonly apiVersion: string;
  readonly command: string;
  readonly args: string[];
  readonly env?: Record<string, string>;
}

export interface ClusterConnection {
  readonly name: string;
  /** API server URL. */
  readonly host: string;
  /** PEM-encoded certificate authority of the API server. */
  readonly clusterCaCertificate: string;
  readonly exec: ExecCredential;
}

/** What a Kubernetes service account carries to act as a cloud identity. */
export interface WorkloadIdentity {
  readonly serviceAccountAnnotations: Record<string, string>;
  /** Labels the pods using the service account need (Azure Workload Identity). */
  readonly podLabels: Record<string, string>;
}

/** A storage class the cluster offers for persistent volumes. */
export interface StorageClassSpec {
  readonly name: string;
  /**
   * When set, the add-ons stack creates the class with this provisioner and
   * these parameters; when absent, the class already exists in the cluster.
   */
  readonly provisioner?: string;
  readonly parameters?: Record<string, string>;
}

export interface ContainerRegistry {
  /** Registry host name, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  readonly loginServer: string;
  /** Full image repository address per application name. */
  readonly repositories: Record<string, string>;
  /** Flux ImageRepository `spec.provider` for keyless registry auth. */
  readonly fluxProvider: "aws" | "azure" | "gcp" | "generic";
}

/**
 * An External Secrets Operator provider block (`spec.provider` of a
 * SecretStore or ClusterSecretStore), already authenticated by workload identity.
 */
export type SecretStoreProvider = Record<string, unknown>;

/** Identities the platform prepares for in-cluster components. */
export interface AddonIdentities {
  /** Flux image-reflector-controller: read access to the registry. */
  readonly fluxImageReflector: WorkloadIdentity;
  /** External Secrets Operator controller: read access to the platform secret store. */
  readonly externalSecrets: WorkloadIdentity;
}

/**
 * A node autoscaler the cloud does not run itself, as data: a pinned chart,
 * its values and the custom resources that configure it (node classes and
 * pools), all computed by the cloud from its own config. The add-ons stack
 * installs it without knowing which autoscaler it is.
 */
export interface NodeAutoscaler {
  /** The controller's chart, pinned in constructs/addons/charts.ts. */
  readonly chart: ChartName;
  /**
   * A chart holding only the CRDs, installed first: Helm never upgrades what
   * a chart keeps in `crds/`, a CRD chart's templates it does.
   * @default - the CRDs come with `chart`
   */
  readonly crdChart?: ChartName;
  readonly releaseName: string;
  readonly namespace: string;
  /** Values derived from the cloud's config; user files in helm-values/ win over them. */
  readonly values: Values;
  /** Custom resources applied once the controller runs. */
  readonly manifests: KubernetesObject[];
}

/** How the cluster gets nodes and resource metrics. */
export interface ClusterCapacity {
  /** @default - the cloud scales its node pools itself (AKS's cluster autoscaler) */
  readonly nodeAutoscaler?: NodeAutoscaler;
  /** Whether the cloud serves `metrics.k8s.io` itself; when not, the add-ons install metrics-server. */
  readonly resourceMetricsBuiltIn: boolean;
}

/**
 * Object storage the platform created for the log store (Loki), and the
 * identity Loki's service account reaches it with. Only bucket names and
 * client settings: never a key or a connection string.
 */
export interface LogStorage {
  /** Loki's name for the backend, used in `schema_config` and by the compactor. */
  readonly objectStore: "s3" | "azure" | "gcs";
  /**
   * The Loki chart's `loki.storage` values: `type`, `bucketNames` and the
   * backend's client settings (region, account name, federated token).
   */
  readonly lokiStorage: Record<string, unknown>;
  /** Carried by Loki's service account, `IN_CLUSTER.logs.serviceAccount`. */
  readonly identity: WorkloadIdentity;
}

/**
 * The public DNS zone of the base domain and how in-cluster components change
 * it. Both identities may change only this zone.
 */
export interface PublicDns {
  /** Name of the zone: the base domain or a parent of it. */
  readonly zoneName: string;
  readonly externalDns: {
    /** external-dns `provider.name`. */
    readonly provider: string;
    /** Provider flags, e.g. the one zone to manage. */
    readonly args: string[];
    /** Environment variables of the controller, as a container's `env` list. */
    readonly env: { readonly name: string; readonly value: string }[];
    /** The TXT owner of the records this cluster writes: unique to the cluster, so no other writer's records are touched. */
    readonly ownerId: string;
    /**
     * Files the provider reads, by file name, mounted at
     * `IN_CLUSTER.externalDns.configDir`. Configuration only, never a secret:
     * they are applied as a ConfigMap.
     */
    readonly configFiles: Record<string, string>;
    readonly identity: WorkloadIdentity;
  };
  readonly certManager: {
    /** The `dns01` block of an ACME solver, authenticated by workload identity. */
    readonly dns01: Record<string, unknown>;
    readonly identity: WorkloadIdentity;
  };
}

/**
 * The monitoring's dead man's switch: where Alertmanager sends its
 * always-firing Watchdog so that something outside the cluster notices when
 * it stops arriving. A cloud that watches the cluster another way leaves it out.
 */
export interface AlertHeartbeat {
  /**
   * An Alertmanager receiver without its `name` (e.g. `{ sns_configs: [...] }`),
   * in Alertmanager's own configuration format.
   */
  readonly receiver: Record<string, unknown>;
  /** The identity Alertmanager's service account carries to deliver it. */
  readonly identity: WorkloadIdentity;
}

/** A Kubernetes RBAC subject: a group or a user, as the cluster's authenticator names it. */
export interface RbacSubject {
  readonly kind: "Group" | "User";
  readonly name: string;
}

/**
 * The CI identities as the cluster knows them. The production identity is
 * the cluster's administrator through the cloud itself; these two get their
 * access from the add-on and environment stacks (constructs/kubernetes/ci-access.ts).
 */
export interface CiSubjects {
  /** Applies the non-production environments. */
  readonly deploy: RbacSubject;
  /** Plans every stack on `main` before a production approval. */
  readonly review: RbacSubject;
}

/** Everything the add-ons stack needs from a cloud platform. */
export interface ClusterPlatform {
  /** Cloud label used only in names and descriptions. */
  readonly cloud: string;
  readonly cluster: ClusterConnection;
  readonly storageClass: StorageClassSpec;
  readonly registry: ContainerRegistry;
  readonly identities: AddonIdentities;
  /** Provider block of the cluster-wide secret store. */
  readonly clusterSecretStore: SecretStoreProvider;
  readonly capacity: ClusterCapacity;
  /** Where Loki keeps chunks and index. */
  readonly logStorage: LogStorage;
  readonly dns: PublicDns;
  /** Where the Watchdog goes, when the cloud watches for it. */
  readonly alertHeartbeat?: AlertHeartbeat;
  /** The CI identities, when the config has `ci`. */
  readonly ci?: CiSubjects;
}

/** Where a database's credentials live in the cloud's secret store. */
export interface DatabaseCredentials {
  /** Key of the secret in the store (ARN/name on AWS, secret name on Azure). */
  readonly remoteKey: string;
  /** Property of the secret holding the user name, or undefined when `username` is fixed. */
  readonly usernameProperty?: string;
  /** Fixed user name, used when the secret holds only the password. */
  readonly username?: string;
  /** Property holding the password, or undefined when the secret value is the password itself. */
  readonly passwordProperty?: string;
}

/** One environment's database and how its workloads reach it. */
export interface DatabaseEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly credentials: DatabaseCredentials;
  /** Address ranges the database listens on, for egress policies. */
  readonly cidrs: string[];
  /** The identity of the environment's application service account. */
  readonly applicationIdentity: WorkloadIdentity;
  /** A namespaced secret store provider authenticated as the application service account. */
  readonly secretStore: SecretStoreProvider;
}

/** Well-known in-cluster names both sides of the contract agree on. */
export const IN_CLUSTER = {
  flux: { namespace: "flux-system", imageReflectorServiceAccount: "image-reflector-controller" },
  externalSecrets: { namespace: "external-secrets", serviceAccount: "external-secrets" },
  /** Loki, the log store: its service account alone may use the log storage. */
  logs: { namespace: "monitoring", serviceAccount: "loki" },
  externalDns: { namespace: "external-dns", serviceAccount: "external-dns", configDir: "/etc/external-dns" },
  certManager: { namespace: "cert-manager", serviceAccount: "cert-manager" },
  alertmanager: { namespace: "monitoring", serviceAccount: "alertmanager" },
  /** The application service account in every environment namespace. */
  applicationServiceAccount: "app",
} as const;

/**
 * Platform secrets (not application secrets) in the cloud's secret store are
 * named with this prefix; the cluster-wide store's cloud identity may read
 * only those where the cloud can scope a grant by name.
 */
export const platformSecretPrefix = (project: string): string => `${project}-platform-`;
