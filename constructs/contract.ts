/**
 * The small, cloud-agnostic contract between a cloud platform (AWS or Azure)
 * and everything that runs inside its cluster. Add-on and environment stacks
 * take only these interfaces; each cloud fills them with its own values.
 * Values may be Terraform tokens that resolve to another stack's outputs.
 */

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
  /** Where the Watchdog goes, when the cloud watches for it. */
  readonly alertHeartbeat?: AlertHeartbeat;
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
