import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig, PlatformConfig } from "../config";
import { useLocalState } from "../constructs/common/state";
import { databaseSetupServiceAccount, IN_CLUSTER, registryWebhookServiceAccount, type ApplicationEndpoint, type ClusterPlatform, type DatabaseEndpoint } from "../constructs/contract";
import { ApplicationAccounts } from "../constructs/environment/application-accounts";
import { ApplicationServiceAccount } from "../constructs/environment/application-service-account";
import { DatabaseSetup } from "../constructs/environment/database-setup";
import { DatabaseSecret } from "../constructs/environment/database-secret";
import { environmentDomain } from "../constructs/environment/domain";
import { EnvironmentNamespace } from "../constructs/environment/environment-namespace";
import { GitOpsDelivery } from "../constructs/environment/gitops-delivery";
import { ImageAutomation } from "../constructs/environment/image-automation";
import { NetworkPolicies } from "../constructs/environment/network-policies";
import { WebhookReceivers, webhookHost } from "../constructs/environment/receiver";
import { PREVIEW_DATABASE } from "../constructs/environment/preview-database";
import { Previews } from "../constructs/environment/previews";
import { STAGE_SETTINGS } from "../config/stages";
import { useClusterProviders } from "../constructs/kubernetes/cluster-providers";

export interface EnvironmentStackProps {
  /** The cluster the environment runs in. */
  readonly platform: ClusterPlatform;
  /** This environment's database. */
  readonly database: DatabaseEndpoint;
  /** What each of the environment's applications gets from the cloud, by application name. */
  readonly applications: Record<string, ApplicationEndpoint>;
  readonly config: Pick<PlatformConfig, "gitops" | "domain">;
  readonly environment: EnvironmentConfig;
  /**
   * Pull-request previews, borrowing this environment's cluster, registry
   * and limit range.
   * @default - none: the config has no previews, or they borrow another environment
   */
  readonly previews?: Pick<PlatformConfig, "project" | "applications"> & { readonly previews: NonNullable<PlatformConfig["previews"]> };
  /** Configures the state backend. @default local state beside the project */
  readonly useState?: (stack: TerraformStack, stackId: string) => void;
}

/** A Flux variable about one application: `IMAGE_WEB` for `IMAGE` and `web`, `IMAGE_BILLING_API` for `billing-api`. */
export const applicationVariable = (prefix: string, application: string): string => `${prefix}_${application.toUpperCase().replace(/-/g, "_")}`;
export const imageVariable = (application: string): string => applicationVariable("IMAGE", application);

/**
 * One environment inside a cluster: its namespace and guard rails, the
 * application identity and database secret, and Flux delivering
 * `deploy/<env>` from Git with image automation. Everything cloud-specific
 * arrives through the contract, so the same class serves every cloud.
 */
export class EnvironmentStack extends TerraformStack {
  readonly namespace: string;
  readonly domain: string;
  readonly delivery: GitOpsDelivery;
  readonly images: ImageAutomation;
  readonly databaseSecret: DatabaseSecret;
  /** The database this environment's pods may reach, as the contract gave it. */
  readonly database: DatabaseEndpoint;
  readonly applications: ApplicationAccounts;
  /** Present when the database lives on a shared server. */
  readonly databaseSetup?: DatabaseSetup;
  /** Present when `gitops.receivers` asks for a Git or a registry webhook. */
  readonly receivers?: WebhookReceivers;
  /** Present when previews borrow this environment. */
  readonly previews?: Previews;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const { platform, database, config, environment } = props;
    this.database = database;
    const stage = STAGE_SETTINGS[environment.stage];
    (props.useState ?? useLocalState)(this, id);
    useClusterProviders(this, platform.cluster);
    this.domain = environmentDomain(config.domain, environment);

    const environmentLabels = {
      environment: environment.name,
      stage: environment.stage,
      ...(stage.colour && { "deployment-colour": stage.colour }),
    };
    const namespace = new EnvironmentNamespace(this, "namespace", {
      name: environment.name,
      labels: { ...environmentLabels, "app.kubernetes.io/managed-by": "cdktf" },
      podSecurityEnforce: stage.podSecurityEnforce,
      quota: environment.quota,
      limitRange: environment.limitRange,
      // The production identity administers the cluster; the deploy identity is bound here.
      deployer: STAGE_SETTINGS[environment.stage].ciIdentity === "production" ? undefined : platform.ci?.deploy,
    });
    this.namespace = namespace.name;
    const inNamespace = namespace.dependables;

    const storage = Object.values(props.applications).flatMap((application) => (application.objectStorage ? [application.objectStorage] : []));
    new NetworkPolicies(this, "network-policies", {
      namespace: this.namespace,
      databaseCidrs: database.cidrs,
      databasePort: database.port,
      objectStorageEgress: uniqueEgress(storage.flatMap((endpoint) => endpoint.egress)),
      dependsOn: inNamespace,
    });

    const app = new ApplicationServiceAccount(this, "app-service-account", {
      namespace: this.namespace,
      identity: database.applicationIdentity,
      dependsOn: inNamespace,
    });

    this.applications = new ApplicationAccounts(this, "applications", { namespace: this.namespace, applications: props.applications, dependsOn: inNamespace });

    // On a shared server, a Job in the platform's setup namespace creates the database and its role first.
    const setup = database.setup;
    if (setup) {
      this.databaseSetup = new DatabaseSetup(this, "database-setup", {
        name: databaseSetupServiceAccount(environment.name),
        namespace: IN_CLUSTER.databaseSetup.namespace,
        server: { host: database.host, port: database.port, cidrs: database.cidrs },
        database: database.database,
        role: setup.role,
        action: { kind: "ensure" },
        admin: setup.admin,
        credentials: database.credentials,
        secretStore: setup.secretStore,
        identity: setup.identity,
        revision: setup.revision,
      });
    }

    this.databaseSecret = new DatabaseSecret(this, "database-secret", {
      namespace: this.namespace,
      database,
      // A new password is read at once rather than at the next refresh.
      revision: setup?.revision,
      // The SecretStore authenticates as the application service account.
      dependsOn: [app.serviceAccount],
    });

    this.delivery = new GitOpsDelivery(this, "gitops", {
      namespace: this.namespace,
      source: {
        url: config.gitops.url,
        branch: environment.gitops.branch,
        secretName: config.gitops.secretName,
        path: environment.gitops.path,
        interval: config.gitops.interval,
      },
      commonLabels: environmentLabels,
      podLabels: database.applicationIdentity.podLabels,
      substitute: {
        ENVIRONMENT: environment.name,
        DOMAIN: this.domain,
        REGISTRY: platform.registry.loginServer,
        DATABASE_SECRET: this.databaseSecret.secretName,
        SERVICE_ACCOUNT: app.name,
        KNATIVE_MIN_SCALE: String(stage.knativeMinScale),
        SCALE_TO_ZERO_RETENTION: `${environment.scaleToZero.retentionPeriodSeconds}s`,
        ...Object.fromEntries(environment.applications.map((name) => [imageVariable(name), platform.registry.repositories[name]])),
        ...Object.fromEntries(Object.entries(this.applications.serviceAccounts).map(([name, account]) => [applicationVariable("SERVICE_ACCOUNT", name), account])),
        ...Object.fromEntries(Object.entries(this.applications.objectStorage).map(([name, configMap]) => [applicationVariable("OBJECT_STORAGE", name), configMap])),
      },
      // The sync applies workloads that need the database (set up) and its secret.
      dependsOn: [...inNamespace, this.databaseSecret.release.release, ...(this.databaseSetup ? [this.databaseSetup.release.release] : [])],
    });

    this.images = new ImageAutomation(this, "images", {
      namespace: this.namespace,
      registry: platform.registry,
      applications: environment.applications,
      tagPolicy: stage.imageTags === "semver" ? { kind: "semver", range: environment.imagePolicy.semverRange } : { kind: "timestamp" },
      commits: stage.imageUpdateAutomation
        ? {
            checkoutBranch: environment.gitops.branch,
            pushBranch: config.gitops.automationBranch ?? environment.gitops.branch,
            path: environment.gitops.path,
            authorEmail: `flux@${config.domain.base}`,
          }
        : undefined,
      // The automation pushes through the GitRepository of the delivery.
      dependsOn: [...inNamespace, this.delivery.release.release],
    });

    // Webhooks reconcile at once what polling would pick up at the next interval.
    const receivers = config.gitops.receivers;
    if (receivers.git || receivers.registry) {
      this.receivers = new WebhookReceivers(this, "receivers", {
        namespace: this.namespace,
        gitRepository: receivers.git ? this.delivery.gitRepository.metadata.name : undefined,
        registry: receivers.registry ? { type: platform.registry.webhookReceiver, imageRepositories: this.images.imageRepositories.map((repository) => repository.metadata.name) } : undefined,
        tokenVersion: receivers.tokenVersion,
        // The platform's Job that points the registry's webhook here reads the Receiver's path.
        registryReader: platform.registryWebhooks?.[environment.name] && { name: registryWebhookServiceAccount(environment.name), namespace: IN_CLUSTER.registryWebhooks.namespace },
        // The Receivers name the objects of both releases.
        dependsOn: [...inNamespace, this.delivery.release.release, this.images.release.release],
      });
    }

    if (props.previews) {
      const access = database.previews;
      if (!access) throw new Error(`${this.node.path}: previews borrow ${environment.name}, whose database gives them no access`);
      // Once, as the server's administrator: the role through which previews create and drop their databases.
      const previewDatabaseSetup = new DatabaseSetup(this, "preview-database-setup", {
        name: IN_CLUSTER.previewDatabase.setupServiceAccount,
        namespace: IN_CLUSTER.databaseSetup.namespace,
        server: { host: database.host, port: database.port, cidrs: database.cidrs },
        database: PREVIEW_DATABASE.adminRole,
        role: PREVIEW_DATABASE.adminRole,
        action: { kind: "previews" },
        admin: access.setup.admin,
        credentials: access.credentials,
        secretStore: access.setup.secretStore,
        identity: access.setup.identity,
        revision: access.setup.revision,
      });
      this.previews = new Previews(this, "previews", {
        previews: props.previews.previews,
        project: props.previews.project,
        applications: props.previews.applications.filter((application) => application.previews),
        domain: config.domain,
        environment,
        registry: platform.registry,
        database: { host: database.host, port: database.port, cidrs: database.cidrs, access },
        nodes: platform.capacity.previewNodes,
        deployer: platform.ci?.deploy,
        dependsOn: [previewDatabaseSetup.release.release],
      });
      // A pull request event refreshes the previews' input providers at once, from their own namespace.
      const providers = this.previews.inputProviders;
      if (config.gitops.receivers.git && providers.length > 0) {
        new WebhookReceivers(this, "preview-receivers", {
          namespace: providers[0].namespace,
          inputProviders: providers.map((provider) => provider.name),
          tokenVersion: config.gitops.receivers.tokenVersion,
          dependsOn: [this.previews.release.release],
        });
      }
    }

    new TerraformOutput(this, "namespace_name", { value: this.namespace });
    new TerraformOutput(this, "domain", { value: this.domain, description: "DNS suffix of the environment's Knative routes" });
    new TerraformOutput(this, "database_secret", { value: this.databaseSecret.secretName, description: "Kubernetes secret with host, port, database, user and password" });
    new TerraformOutput(this, "gitops_path", { value: environment.gitops.path });
    if (this.receivers) {
      new TerraformOutput(this, "webhook_host", { value: webhookHost(this.domain), description: "Host of the environment's webhook URLs; the path is the Receiver's status.webhookPath" });
    }
  }
}

/** Each address and port once, in the order first seen. */
function uniqueEgress(egress: { cidr: string; port: number }[]): { cidr: string; port: number }[] {
  return [...new Map(egress.map((entry) => [`${entry.cidr}:${entry.port}`, entry])).values()];
}
