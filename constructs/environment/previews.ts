import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { RoleBindingV1 } from "@cdktf/provider-kubernetes/lib/role-binding-v1";
import { RoleV1 } from "@cdktf/provider-kubernetes/lib/role-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { stringify } from "yaml";
import type { EnvironmentConfig, PlatformConfig } from "../../config";
import { PREVIEW_NAMESPACES, type PreviewsConfig } from "../../config/previews";
import { CLUSTER_SECRET_STORE } from "../addons/external-secrets";
import { IN_CLUSTER, platformSecretPrefix, type ContainerRegistry, type DedicatedNodes, type PreviewDatabaseAccess, type RbacSubject } from "../contract";
import { CiNamespaceAccess } from "../kubernetes/ci-access";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { EnvironmentNamespace } from "./environment-namespace";
import { ApplicationServiceAccount } from "./application-service-account";
import { NetworkPolicies } from "./network-policies";
import { PREVIEW_DATABASE, previewDatabaseSharedManifests, previewDatabaseTemplate, type PreviewDatabaseServer } from "./preview-database";
import { repositoryPath } from "./repository-path";
import { STAGE_SETTINGS } from "./stage-settings";

/** The stage whose guard rails and scale-to-zero previews share. */
const PREVIEW_STAGE = "develop";

/** Names in the two preview namespaces that other features build on. */
export const PREVIEWS = {
  /** Where preview workloads run: application teams' manifests are applied here and nowhere else. */
  namespace: PREVIEW_NAMESPACES.workloads,
  /** Where the platform's preview machinery lives: input providers, ResourceSets, per-preview syncs, the GitHub token, the database Jobs. No pull request's code runs here. */
  deliveryNamespace: PREVIEW_NAMESPACES.delivery,
  /** Secret with the GitHub token: `username`/`password` for Git and the input providers, `token` for the notification providers. */
  githubSecret: "github-token",
  /** The account the ResourceSets apply as: may change Flux objects of the delivery namespace only. */
  resourceSetAccount: "preview-resourcesets",
  /** The account each preview's Kustomization applies as: `admin` in the preview namespace only. */
  reconcilerAccount: "preview-reconciler",
  /** Label on each preview's objects naming its application, and its pull request number. */
  applicationLabel: "previews.platform.kit/application",
  pullRequestLabel: "previews.platform.kit/pull-request",
} as const;

/** The cloud secret holding the GitHub token previews use (a fine-grained token: contents read, pull requests and commit statuses write). */
export const previewGithubTokenKey = (project: string): string => `${platformSecretPrefix(project)}previews-github-token`;

/** The DNS suffix of preview routes: `preview.<base>`. */
export const previewDomain = (base: string): string => `${PREVIEWS.namespace}.${base}`;

/** The ResourceSetInputProvider of an application's labelled pull requests: a Receiver that triggers it names this. */
export const previewInputProvider = (application: string): { name: string; namespace: string } => ({
  name: `${application}-pull-requests`,
  namespace: PREVIEWS.deliveryNamespace,
});

/** Each preview object's name: `<application>-pr-<number>`, the same suffix its workloads get. */
const previewName = (application: string) => `${application}-pr-<< inputs.id >>`;

/** A Flux variable about one application, as the environments name them: `IMAGE_BILLING_API`. */
const variable = (prefix: string, application: string) => `${prefix}_${application.toUpperCase().replace(/-/g, "_")}`;

export interface PreviewApplication {
  readonly name: string;
  /** GitHub repository URL whose pull requests are previewed. */
  readonly repository: string;
  /** The application's image repository in the borrowed environment's registry. */
  readonly imageRepository: string;
}

export interface PreviewTemplateProps {
  readonly previews: PreviewsConfig;
  readonly application: PreviewApplication;
  readonly domain: string;
  readonly registry: string;
  readonly scaleToZeroRetention: string;
  /**
   * The borrowed environment's database server, where each preview gets a database of its own.
   * @default - previews get no database
   */
  readonly database?: PreviewDatabaseServer;
  /**
   * Nodes of the previews' own: every pod template the sync applies gets their selector and toleration.
   * @default - previews run on the environments' nodes
   */
  readonly nodes?: DedicatedNodes;
}

/** Kinds whose pod template is at `/spec/template/spec`, which previews' syncs send to the previews' nodes. */
export const PREVIEW_POD_TEMPLATE_KINDS = [
  { group: "serving.knative.dev", kind: "Service" },
  { group: "apps", kind: "Deployment" },
  { group: "apps", kind: "StatefulSet" },
  { group: "batch", kind: "Job" },
] as const;

/** Kustomize patches that add the selector and toleration to each pod template a preview applies. */
function nodePatches(nodes: DedicatedNodes): { patch: string; target: { group: string; kind: string } }[] {
  const patch = stringify([
    { op: "add", path: "/spec/template/spec/nodeSelector", value: nodes.nodeSelector },
    { op: "add", path: "/spec/template/spec/tolerations", value: nodes.tolerations },
  ]);
  return PREVIEW_POD_TEMPLATE_KINDS.map((target) => ({ patch, target: { ...target } }));
}

/**
 * The objects the Flux Operator creates for each open, labelled pull request
 * of an application (inputs `id`, `sha`, `branch`, `author` of the
 * GitHubPullRequest provider), and deletes when it closes or loses the label:
 * a GitRepository pinned to the head commit, and a Kustomization that applies
 * the repository's preview manifests into the preview namespace with every
 * name suffixed `-pr-<number>` (a Knative Service `web` answers at
 * `web-pr-42.preview.<base>`), the image tagged with the head commit, and the
 * annotations the GitHub notification providers read (the pull request and
 * the commit).
 */
export function previewTemplate(props: PreviewTemplateProps): KubernetesObject[] {
  const { previews, application } = props;
  const name = previewName(application.name);
  const namespace = PREVIEWS.deliveryNamespace;
  const labels = { [PREVIEWS.applicationLabel]: application.name, [PREVIEWS.pullRequestLabel]: "<< inputs.id | quote >>" };
  const url = `https://${application.name}-pr-<< inputs.id >>.${props.domain}`;
  const database =
    props.database &&
    previewDatabaseTemplate({
      application: application.name,
      id: "<< inputs.id >>",
      namespace,
      previewNamespace: PREVIEWS.namespace,
      server: props.database,
      objectName: name,
      labels,
    });
  return [
    {
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name, namespace, labels },
      spec: {
        url: application.repository,
        // Quoted: a SHA of digits (and an `e`) would read back as a number.
        ref: { commit: "<< inputs.sha | quote >>" },
        secretRef: { name: PREVIEWS.githubSecret },
        // The commit never moves: a push is a new input and a new revision.
        interval: "1h",
      },
    },
    {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: {
        name,
        namespace,
        labels,
        annotations: {
          "event.toolkit.fluxcd.io/change_request": "<< inputs.id | quote >>",
          "event.toolkit.fluxcd.io/commit": "<< inputs.sha | quote >>",
          "event.toolkit.fluxcd.io/preview-url": url,
          "event.toolkit.fluxcd.io/branch": "<< inputs.branch | quote >>",
        },
      },
      spec: {
        interval: "10m",
        retryInterval: "2m",
        timeout: "5m",
        sourceRef: { kind: "GitRepository", name },
        path: repositoryPath(previews.path),
        prune: true,
        wait: true,
        targetNamespace: PREVIEWS.namespace,
        serviceAccountName: PREVIEWS.reconcilerAccount,
        nameSuffix: "-pr-<< inputs.id >>",
        commonMetadata: { labels: { environment: PREVIEWS.namespace, stage: PREVIEW_STAGE, ...labels } },
        images: [{ name: application.imageRepository, newTag: "<< inputs.sha | quote >>" }],
        ...(props.nodes && { patches: nodePatches(props.nodes) }),
        postBuild: {
          substitute: {
            ENVIRONMENT: PREVIEWS.namespace,
            DOMAIN: props.domain,
            REGISTRY: props.registry,
            [variable("IMAGE", application.name)]: application.imageRepository,
            IMAGE_TAG: "<< inputs.sha | quote >>",
            PULL_REQUEST: "<< inputs.id | quote >>",
            PREVIEW_URL: url,
            KNATIVE_MIN_SCALE: String(STAGE_SETTINGS[PREVIEW_STAGE].knativeMinScale),
            SCALE_TO_ZERO_RETENTION: props.scaleToZeroRetention,
            ...(database && { DATABASE_SECRET: `${name}-database` }),
          },
        },
      },
    },
    ...(database ?? []),
  ];
}

/** The input provider and the ResourceSet of one application, and its two GitHub notifications. */
export function previewManifests(props: PreviewTemplateProps): KubernetesObject[] {
  const { previews, application } = props;
  const namespace = PREVIEWS.deliveryNamespace;
  const provider = previewInputProvider(application.name);
  const notification = (suffix: string, type: string): KubernetesObject[] => [
    {
      apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
      kind: "Provider",
      metadata: { name: `${application.name}-${suffix}`, namespace },
      spec: { type, address: application.repository, secretRef: { name: PREVIEWS.githubSecret } },
    },
    {
      apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
      kind: "Alert",
      metadata: { name: `${application.name}-${suffix}`, namespace },
      spec: {
        providerRef: { name: `${application.name}-${suffix}` },
        eventSeverity: "info",
        eventSources: [{ kind: "Kustomization", name: "*", matchLabels: { [PREVIEWS.applicationLabel]: application.name } }],
      },
    },
  ];
  return [
    {
      apiVersion: "fluxcd.controlplane.io/v1",
      kind: "ResourceSetInputProvider",
      metadata: { ...provider, annotations: { "fluxcd.controlplane.io/reconcileEvery": "5m" } },
      spec: {
        type: "GitHubPullRequest",
        url: application.repository,
        secretRef: { name: PREVIEWS.githubSecret },
        filter: { labels: [previews.label], limit: previews.maxOpen },
      },
    },
    {
      apiVersion: "fluxcd.controlplane.io/v1",
      kind: "ResourceSet",
      metadata: { name: `${application.name}-previews`, namespace },
      spec: {
        serviceAccountName: PREVIEWS.resourceSetAccount,
        inputsFrom: [{ apiVersion: "fluxcd.controlplane.io/v1", kind: "ResourceSetInputProvider", name: provider.name }],
        resources: previewTemplate(props),
      },
    },
    // One comment per pull request, updated in place, and a status on its head commit.
    ...notification("pull-request-comment", "githubpullrequestcomment"),
    ...notification("commit-status", "github"),
  ];
}

/** The GitHub token in the delivery namespace, copied from the cloud's secret store: no value passes through Terraform. */
export function previewGithubToken(project: string): KubernetesObject {
  return {
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name: PREVIEWS.githubSecret, namespace: PREVIEWS.deliveryNamespace },
    spec: {
      refreshInterval: "1h",
      secretStoreRef: { kind: "ClusterSecretStore", name: CLUSTER_SECRET_STORE },
      target: {
        name: PREVIEWS.githubSecret,
        creationPolicy: "Owner",
        template: { engineVersion: "v2", type: "Opaque", data: { username: "git", password: "{{ .token }}", token: "{{ .token }}" } },
      },
      data: [{ secretKey: "token", remoteRef: { key: previewGithubTokenKey(project) } }],
    },
  };
}

export interface PreviewsProps {
  readonly previews: PreviewsConfig;
  readonly project: string;
  /** The applications with `previews: true`. */
  readonly applications: PlatformConfig["applications"];
  readonly domain: Pick<PlatformConfig["domain"], "base">;
  /** The borrowed environment: its limit range and scale-to-zero. */
  readonly environment: Pick<EnvironmentConfig, "limitRange" | "scaleToZero">;
  readonly registry: ContainerRegistry;
  /**
   * The borrowed environment's database server and what previews may do on it.
   * @default - previews get no database
   */
  readonly database?: PreviewDatabaseServer & { readonly access: PreviewDatabaseAccess };
  /** @default - previews run on the environments' nodes */
  readonly nodes?: DedicatedNodes;
  /** The CI identity that deploys the borrowed environment, bound in both namespaces. */
  readonly deployer?: RbacSubject;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Pull-request previews in the borrowed environment's cluster: the preview
 * namespace with the guard rails of a develop environment (Pod Security,
 * quota, limit range, deny-by-default network policies that reach only
 * the borrowed database server), and a delivery namespace where the Flux
 * Operator turns each labelled pull request into a GitRepository, a
 * Kustomization and its own database (preview-database.ts).
 */
export class Previews extends Construct {
  readonly namespace: string = PREVIEWS.namespace;
  readonly domain: string;
  readonly manifests: KubernetesObject[];
  readonly release: ManifestsRelease;
  /** The input providers, one per application: what a webhook Receiver triggers. */
  readonly inputProviders: { readonly application: string; readonly name: string; readonly namespace: string }[];

  constructor(scope: Construct, id: string, props: PreviewsProps) {
    super(scope, id);
    const stage = STAGE_SETTINGS[PREVIEW_STAGE];
    this.domain = previewDomain(props.domain.base);
    const workloads = new EnvironmentNamespace(this, "namespace", {
      name: PREVIEWS.namespace,
      labels: { environment: PREVIEWS.namespace, stage: PREVIEW_STAGE, "app.kubernetes.io/managed-by": "cdktf" },
      podSecurityEnforce: stage.podSecurityEnforce,
      quota: props.previews.quota,
      limitRange: props.environment.limitRange,
      deployer: props.deployer,
    });
    // Previews reach the borrowed server (where their role opens their own database only), and have no cloud identity.
    const database = props.database;
    new NetworkPolicies(this, "network-policies", { namespace: PREVIEWS.namespace, databaseCidrs: database?.cidrs ?? [], databasePort: database?.port ?? 5432, dependsOn: workloads.dependables });

    const restricted = Object.fromEntries(["enforce", "warn", "audit"].map((mode) => [`pod-security.kubernetes.io/${mode}`, "restricted"]));
    const delivery = new NamespaceV1(this, "delivery-namespace", {
      metadata: { name: PREVIEWS.deliveryNamespace, labels: { ...restricted, "app.kubernetes.io/managed-by": "cdktf" } },
      dependsOn: props.dependsOn,
    });
    const inDelivery: ITerraformDependable[] = [delivery];
    if (props.deployer) {
      const access = new CiNamespaceAccess(this, "ci-deployer", { namespace: PREVIEWS.deliveryNamespace, deployer: props.deployer, dependsOn: [delivery] });
      inDelivery.push(access.binding);
    }

    const account = (name: string, roleNamespace: string, dependsOn: ITerraformDependable[]) => {
      const serviceAccount = new ServiceAccountV1(this, name, {
        metadata: { name, namespace: PREVIEWS.deliveryNamespace },
        automountServiceAccountToken: false,
        dependsOn: inDelivery,
      });
      return new RoleBindingV1(this, `${name}-binding`, {
        metadata: { name, namespace: roleNamespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
        subject: [{ kind: "ServiceAccount", name, namespace: PREVIEWS.deliveryNamespace }],
        dependsOn: [serviceAccount, ...dependsOn],
      });
    };
    const bindings: ITerraformDependable[] = [
      account(PREVIEWS.resourceSetAccount, PREVIEWS.deliveryNamespace, inDelivery),
      account(PREVIEWS.reconcilerAccount, PREVIEWS.namespace, workloads.dependables),
    ];
    if (database) bindings.push(...this.databaseAccounts(database.access, inDelivery, workloads.dependables));

    const applications = props.applications.map((app) => {
      if (app.repository === undefined) throw new Error(`${this.node.path}: application ${app.name} has previews but no repository`);
      return { name: app.name, repository: app.repository, imageRepository: props.registry.repositories[app.name] };
    });
    this.manifests = [
      previewGithubToken(props.project),
      ...applications.flatMap((application) =>
        previewManifests({
          previews: props.previews,
          application,
          domain: this.domain,
          registry: props.registry.loginServer,
          scaleToZeroRetention: `${props.environment.scaleToZero.retentionPeriodSeconds}s`,
          database,
          nodes: props.nodes,
        }),
      ),
      ...(database
        ? previewDatabaseSharedManifests({
            namespace: PREVIEWS.deliveryNamespace,
            previewNamespace: PREVIEWS.namespace,
            server: database,
            admin: { credentials: database.access.credentials, secretStore: database.access.secretStore },
          })
        : []),
    ];
    this.inputProviders = applications.map((application) => ({ application: application.name, ...previewInputProvider(application.name) }));
    this.release = new ManifestsRelease(this, "manifests", {
      name: "previews",
      namespace: PREVIEWS.deliveryNamespace,
      manifests: this.manifests,
      dependsOn: [...inDelivery, ...bindings],
    });
  }

  /**
   * The service account whose cloud identity reads the `pr_admin` password
   * (in the delivery namespace only), one that reads previews' generated
   * passwords from the preview namespace, and the ResourceSets' right to
   * create those passwords and secrets there.
   */
  private databaseAccounts(access: PreviewDatabaseAccess, inDelivery: ITerraformDependable[], inPreview: ITerraformDependable[]): ITerraformDependable[] {
    const admin = new ApplicationServiceAccount(this, "database-account", {
      name: IN_CLUSTER.previewDatabase.serviceAccount,
      namespace: PREVIEWS.deliveryNamespace,
      identity: access.identity,
      dependsOn: inDelivery,
    });
    const reader = new ServiceAccountV1(this, "database-password-reader", {
      metadata: { name: PREVIEW_DATABASE.passwordReader, namespace: PREVIEWS.deliveryNamespace },
      automountServiceAccountToken: false,
      dependsOn: inDelivery,
    });
    const role = new RoleV1(this, "database-password-reader-role", {
      metadata: { name: PREVIEW_DATABASE.passwordReader, namespace: PREVIEWS.namespace },
      rule: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] }],
      dependsOn: inPreview,
    });
    const readerBinding = new RoleBindingV1(this, "database-password-reader-binding", {
      metadata: { name: PREVIEW_DATABASE.passwordReader, namespace: PREVIEWS.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: PREVIEW_DATABASE.passwordReader },
      subject: [{ kind: "ServiceAccount", name: PREVIEW_DATABASE.passwordReader, namespace: PREVIEWS.deliveryNamespace }],
      dependsOn: [reader, role],
    });
    // The ResourceSets create each preview's password generator and secret beside its workloads.
    const resourceSets = new RoleBindingV1(this, "resourcesets-in-preview", {
      metadata: { name: PREVIEWS.resourceSetAccount, namespace: PREVIEWS.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
      subject: [{ kind: "ServiceAccount", name: PREVIEWS.resourceSetAccount, namespace: PREVIEWS.deliveryNamespace }],
      dependsOn: inPreview,
    });
    return [admin.serviceAccount, readerBinding, resourceSets];
  }
}
