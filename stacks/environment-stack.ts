import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig, PlatformConfig } from "../config";
import { useLocalState } from "../constructs/common/state";
import type { ClusterPlatform, DatabaseEndpoint } from "../constructs/contract";
import { ApplicationServiceAccount } from "../constructs/environment/application-service-account";
import { DatabaseSecret } from "../constructs/environment/database-secret";
import { environmentDomain } from "../constructs/environment/domain";
import { EnvironmentNamespace } from "../constructs/environment/environment-namespace";
import { GitOpsDelivery } from "../constructs/environment/gitops-delivery";
import { ImageAutomation } from "../constructs/environment/image-automation";
import { NetworkPolicies } from "../constructs/environment/network-policies";
import { STAGE_SETTINGS } from "../constructs/environment/stage-settings";
import { useClusterProviders } from "../constructs/kubernetes/cluster-providers";

export interface EnvironmentStackProps {
  /** The cluster the environment runs in. */
  readonly platform: ClusterPlatform;
  /** This environment's database. */
  readonly database: DatabaseEndpoint;
  readonly config: Pick<PlatformConfig, "gitops" | "domain">;
  readonly environment: EnvironmentConfig;
  /** Configures the state backend. @default local state beside the project */
  readonly useState?: (stack: TerraformStack, stackId: string) => void;
}

/** `IMAGE_WEB` for `web`, `IMAGE_BILLING_API` for `billing-api`. */
export const imageVariable = (application: string): string => `IMAGE_${application.toUpperCase().replace(/-/g, "_")}`;

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
      deployer: environment.stage === "production" ? undefined : platform.ci?.deploy,
    });
    this.namespace = namespace.name;
    const inNamespace = namespace.dependables;

    new NetworkPolicies(this, "network-policies", {
      namespace: this.namespace,
      databaseCidrs: database.cidrs,
      databasePort: database.port,
      dependsOn: inNamespace,
    });

    const app = new ApplicationServiceAccount(this, "app-service-account", {
      namespace: this.namespace,
      identity: database.applicationIdentity,
      dependsOn: inNamespace,
    });

    this.databaseSecret = new DatabaseSecret(this, "database-secret", {
      namespace: this.namespace,
      database,
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
      },
      // The sync applies workloads that need the database secret.
      dependsOn: [...inNamespace, this.databaseSecret.release.release],
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

    new TerraformOutput(this, "namespace_name", { value: this.namespace });
    new TerraformOutput(this, "domain", { value: this.domain, description: "DNS suffix of the environment's Knative routes" });
    new TerraformOutput(this, "database_secret", { value: this.databaseSecret.secretName, description: "Kubernetes secret with host, port, database, user and password" });
    new TerraformOutput(this, "gitops_path", { value: environment.gitops.path });
  }
}
