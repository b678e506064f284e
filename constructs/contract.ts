/**
 * The small, cloud-agnostic contract between a cloud platform (AWS or Azure)
 * and everything that runs inside its cluster. Add-on and environment stacks
 * take only these interfaces; each cloud fills them with its own values.
 * Values may be Terraform tokens that resolve to another stack's outputs.
 */

import { privateZoneName } from "../config/clusters";
import { PREVIEW_NAMESPACES } from "../config/previews";
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
  /**
   * The Flux Receiver type the registry's push notifications arrive as: `acr`
   * for an Azure Container Registry webhook, `generic` for anything else
   * (on AWS, an EventBridge API destination).
   */
  readonly webhookReceiver: "acr" | "generic";
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

/** A Kubernetes toleration, as a pod spec lists it. */
export interface Toleration {
  readonly key: string;
  readonly operator: "Equal" | "Exists";
  readonly value?: string;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** Nodes kept for one kind of workload: what its pods select, and the taint only they tolerate. */
export interface DedicatedNodes {
  readonly nodeSelector: Record<string, string>;
  readonly tolerations: Toleration[];
}

/** How the cluster gets nodes and resource metrics. */
export interface ClusterCapacity {
  /**
   * Nodes of their own for pull-request previews (on EKS, a spot NodePool
   * with a ceiling), when the cluster hosts previews.
   * @default - previews share the environments' nodes, bounded by their namespace quota
   */
  readonly previewNodes?: DedicatedNodes;
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
export interface LogStore {
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
 * it stops arriving. Either a receiver outside the cluster, or the cluster's
 * own container logs, which the cloud already collects.
 */
export interface AlertHeartbeat {
  /**
   * An Alertmanager receiver without its `name` (e.g. `{ sns_configs: [...] }`),
   * in Alertmanager's own configuration format.
   * @default - none: the Watchdog goes to the container-log sink
   */
  readonly receiver?: Record<string, unknown>;
  /** The identity Alertmanager's service account carries to deliver it. */
  readonly identity: WorkloadIdentity;
  /**
   * Whether the cloud reads the Watchdog from the cluster's container logs:
   * the add-ons then run `IN_CLUSTER.watchdogSink`, which logs a line per
   * Watchdog Alertmanager delivers to it.
   * @default false
   */
  readonly containerLog?: boolean;
}

/** How the cloud's load balancer fronts the cluster's ingress gateway. */
export interface IngressGateway {
  /**
   * Annotations on the gateway's LoadBalancer Service, read by the cloud's
   * service controller (on EKS, the type of load balancer).
   */
  readonly loadBalancerAnnotations: Record<string, string>;
}

/** The two services a workload cluster publishes to the tools cluster's central Grafana. */
export type PrivateMonitoringService = "prometheus" | "loki";

/**
 * Where a cluster's Prometheus or Loki answers the tools cluster: a name in
 * the private zone `internal.<base domain>`, resolved in the tools cluster's
 * network to an internal load balancer of that cluster (docs/topology.md,
 * "Central Grafana").
 */
export function privateMonitoringHost(service: PrivateMonitoringService, cluster: string, baseDomain: string): string {
  return `${service}.${clusterPrivateDomain(cluster, baseDomain)}`;
}

/** The names of one cluster in the private zone: `<cluster>.internal.<base domain>`. */
export const clusterPrivateDomain = (cluster: string, baseDomain: string): string => `${cluster}.${privateZoneName(baseDomain)}`;

/**
 * How a workload cluster publishes its Prometheus and Loki to the tools
 * cluster over the peered networks: the charts' own Services become internal
 * load balancers with these annotations, read by the cloud's service
 * controller (internal scheme, the source range of the tools cluster alone)
 * and, where the cloud needs it, by external-dns for the private name.
 */
export interface PrivateMonitoring {
  readonly serviceAnnotations: Record<PrivateMonitoringService, Record<string, string>>;
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
  readonly logStore: LogStore;
  readonly dns: PublicDns;
  readonly ingressGateway: IngressGateway;
  /** Where the Watchdog goes, when the cloud watches for it. */
  readonly alertHeartbeat?: AlertHeartbeat;
  /** The CI identities, when the config has `ci`. */
  readonly ci?: CiSubjects;
  /**
   * Per environment name, what points the registry's push notifications at
   * the environment's Receiver.
   * @default - none: `gitops.receivers.registry` is off
   */
  readonly registryWebhooks?: Record<string, RegistryWebhookAccess>;
  /**
   * The identity of the self-hosted CI runner pods, carried by
   * `IN_CLUSTER.ciRunners.serviceAccount`: present on a tools cluster's
   * platform only. It holds no permission of its own: the workflows still
   * act through the CI identities their OIDC tokens assume (docs/runners.md).
   * @default - no runners in this cluster
   */
  readonly ciRunner?: WorkloadIdentity;
  /**
   * Present on a workload cluster when its cloud has a tools cluster: how
   * its Prometheus and Loki are published to the central Grafana.
   * @default - published nowhere outside the cluster
   */
  readonly privateMonitoring?: PrivateMonitoring;
  /**
   * On a tools cluster: the address ranges of the clusters its network is
   * peered with, which its CI runners may not reach.
   * @default - none
   */
  readonly peeredRanges?: readonly string[];
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

/**
 * What creates an environment's database and role on a shared server, which
 * only the cluster can reach: a Job in the platform namespace
 * `IN_CLUSTER.databaseSetup.namespace`, never in the environment's own, so
 * the administrator's credentials never reach a namespace an application
 * team deploys into.
 */
export interface DatabaseSetupAccess {
  /** The environment's role on the server: also the user in `credentials`. */
  readonly role: string;
  /** The server administrator's credentials in the cloud's secret store. */
  readonly admin: DatabaseCredentials;
  /**
   * Carried by `databaseSetupServiceAccount(<environment>)`: reads the
   * administrator's and this environment's credentials, nothing else.
   */
  readonly identity: WorkloadIdentity;
  /** A SecretStore provider authenticated as that service account. */
  readonly secretStore: SecretStoreProvider;
  /** Changes whenever the role's password does, so the setup runs again and the environment's secret is read again. */
  readonly revision: string;
}

/**
 * What pull-request previews need on the server of the environment they
 * borrow (constructs/environment/preview-database.ts): the password of the
 * `pr_admin` role, generated into the cloud's secret store (never into
 * state), the setup that creates that role as the server's administrator,
 * and the identity the previews' delivery namespace reads that password with.
 */
export interface PreviewDatabaseAccess {
  /** Where the `pr_admin` password is in the cloud's secret store. */
  readonly credentials: DatabaseCredentials;
  /**
   * Creates the role, as `IN_CLUSTER.previewDatabase.setupServiceAccount`:
   * reads the administrator's credentials and the `pr_admin` password, nothing else.
   */
  readonly setup: Omit<DatabaseSetupAccess, "role">;
  /** Carried by `IN_CLUSTER.previewDatabase.serviceAccount`: reads the `pr_admin` password, nothing else. */
  readonly identity: WorkloadIdentity;
  /** A SecretStore provider authenticated as that service account. */
  readonly secretStore: SecretStoreProvider;
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
  /**
   * Present when the database lives on a shared server: the environment
   * stack then creates the database and its role.
   * @default - the server was created with the database, which needs no setup
   */
  readonly setup?: DatabaseSetupAccess;
  /**
   * Present when pull-request previews borrow this environment: their own
   * databases go on its server.
   * @default - no previews borrow the environment
   */
  readonly previews?: PreviewDatabaseAccess;
}

/** An application's own bucket (S3) or container (Azure Blob), as the application reaches it. */
export interface ObjectStorageEndpoint {
  /** Which API the application speaks. */
  readonly provider: "s3" | "azure-blob";
  /** Bucket or container name. */
  readonly bucket: string;
  /** HTTPS endpoint of the service (`https://s3.<region>.amazonaws.com`, `https://<account>.blob.core.windows.net/`). */
  readonly endpoint: string;
  /** What else the cloud's SDK reads, as environment variables (`AWS_REGION`, `AZURE_STORAGE_ACCOUNT`). */
  readonly settings: Record<string, string>;
  /** Where pods connect to reach it and to get the identity's credentials, for the environment's egress policy. */
  readonly egress: { readonly cidr: string; readonly port: number }[];
}

/**
 * What points the registry's push notifications for one environment at its
 * `registry` Receiver. The webhook URL holds the Receiver's path, which is the
 * whole credential of an `acr` or `generic` Receiver, so Terraform never
 * holds it: a Job in `IN_CLUSTER.registryWebhooks.namespace` reads the path
 * from the Receiver's status and runs `script` with the cloud's CLI.
 */
export interface RegistryWebhookAccess {
  /**
   * Carried by `registryWebhookServiceAccount(<environment>)`: may change
   * this environment's webhook (Azure) or API destination and rule target
   * (AWS), nothing else.
   */
  readonly identity: WorkloadIdentity;
  /** An image with the cloud's CLI and a POSIX shell. */
  readonly image: string;
  /**
   * Shell commands that point the notifications at the URL in the file
   * `$WEBHOOK_URL_FILE`, idempotently; they never print it.
   */
  readonly script: string;
  /** Names and ids the script reads: never a secret. */
  readonly env: Record<string, string>;
}

/** What one application of an environment gets from the cloud. */
export interface ApplicationEndpoint {
  /** Carried by the application's own service account, `applicationServiceAccount(<application>)`. */
  readonly identity: WorkloadIdentity;
  /** Present when the application asked for object storage. */
  readonly objectStorage?: ObjectStorageEndpoint;
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
  /**
   * Where Alertmanager delivers the Watchdog when the cloud reads it from the
   * container logs: a pod `<name>-*` whose log has a line holding `logMarker`
   * (and the Watchdog's name) for every delivery.
   */
  watchdogSink: { namespace: "monitoring", name: "alloy-watchdog", logMarker: "loki.echo.watchdog" },
  /**
   * The environment's service account in every environment namespace: reads
   * the environment's database credentials. Each application also has one of
   * its own, `applicationServiceAccount(<application>)`.
   */
  applicationServiceAccount: "app",
  /** Where the Jobs that create databases and roles on shared servers run: a platform namespace, no application's. */
  databaseSetup: { namespace: "database-setup" },
  /** Where the Jobs that point the registry's webhooks at the Receivers run, with their cloud identities: a platform namespace. */
  registryWebhooks: { namespace: "registry-webhooks" },
  /**
   * Pull-request previews' databases: the one-time setup of their `pr_admin`
   * role runs as `setupServiceAccount` in the database setup namespace, and
   * their Jobs read its password as `serviceAccount` in `namespace`, the
   * previews' delivery namespace, where no pull request's code runs.
   */
  previewDatabase: { namespace: PREVIEW_NAMESPACES.delivery, serviceAccount: "preview-database", setupServiceAccount: "setup-preview" },
  /**
   * Self-hosted GitHub Actions runners on a tools cluster: the
   * actions-runner-controller in `controllerNamespace`, the runner pods in
   * `namespace` under `serviceAccount`, which carries `ClusterPlatform.ciRunner`.
   */
  ciRunners: { controllerNamespace: "arc-systems", namespace: "arc-runners", serviceAccount: "ci-runner" },
} as const;

/**
 * The service account of one application in every environment it runs in,
 * carrying its own cloud identity (its bucket). `app-` keeps it apart from
 * `app` and from the platform's service accounts whatever the application is called.
 */
export const applicationServiceAccount = (application: string): string => `app-${application}`;

/** The service account that sets up one environment's database, in `IN_CLUSTER.databaseSetup.namespace`. */
export const databaseSetupServiceAccount = (environment: string): string => `setup-${environment}`;

/** The service account that points one environment's registry webhook at its Receiver, in `IN_CLUSTER.registryWebhooks.namespace`. */
export const registryWebhookServiceAccount = (environment: string): string => `webhook-${environment}`;

/**
 * Platform secrets (not application secrets) in the cloud's secret store are
 * named with this prefix; the cluster-wide store's cloud identity may read
 * only those where the cloud can scope a grant by name.
 */
export const platformSecretPrefix = (project: string): string => `${project}-platform-`;
