import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import type { ApplicationConfig, AwsConfig, EnvironmentConfig, PlatformConfig } from "../config";
import { ApplicationBucket } from "../constructs/aws/application-bucket";
import type { DataBackup } from "../constructs/aws/backup";
import { dataBackup, databaseServer, type BackupSettings } from "../constructs/aws/database-server";
import { ServiceRole, trustPodIdentity, trustServiceAccount, type PolicyStatement } from "../constructs/aws/iam";
import type { RdsPostgres } from "../constructs/aws/postgres";
import { AwsPreviewDatabaseAccess } from "../constructs/aws/preview-database-access";
import { POSTGRES_PORT } from "../constructs/common/postgres";
import { setUpAwsStack } from "../constructs/aws/stack-setup";
import { boundedName, fittedName } from "../constructs/common/naming";
import { applicationServiceAccount, IN_CLUSTER, type ApplicationEndpoint, type DatabaseCredentials, type DatabaseEndpoint, type PreviewDatabaseAccess } from "../constructs/contract";
import type { AwsServerTenant } from "./aws-database-server-stack";
import type { AwsPlatformStack } from "./aws-platform-stack";

export interface AwsDataStackProps {
  readonly config: PlatformConfig;
  readonly aws: AwsConfig;
  readonly environment: EnvironmentConfig;
  readonly platform: AwsPlatformStack;
  /**
   * The environment's place on its shared server, when `database.server` names one.
   * @default - a server of the environment's own, in this stack
   */
  readonly sharedServer?: AwsServerTenant;
}

/**
 * One environment's stateful resources, in their own state so no other apply
 * can touch them: its PostgreSQL (unless it lives on a shared server), its
 * applications' buckets, backups and keys, and the identities that reach them.
 */
export class AwsDataStack extends TerraformStack {
  /** The environment's own server; undefined when it lives on a shared one. */
  readonly database?: RdsPostgres;
  readonly endpoint: DatabaseEndpoint;
  readonly buckets: Record<string, ApplicationBucket> = {};
  readonly applications: Record<string, ApplicationEndpoint> = {};
  private readonly backupSettings: BackupSettings;
  private backup?: DataBackup;

  constructor(scope: Construct, id: string, props: AwsDataStackProps) {
    super(scope, id);
    const { config, aws, environment, platform, sharedServer } = props;
    setUpAwsStack(this, { config, aws, stackId: id, environment: environment.name });
    const production = environment.stage === "production";
    // RDS identifiers are at most 63 characters.
    const name = boundedName(63, config.project, environment.name);
    this.backupSettings = { name, region: aws.region, backup: aws.backup, protect: production };

    let readCredentials: PolicyStatement[];
    let credentials: DatabaseCredentials;
    let host: string;
    let grantKey: ((roleArn: string) => void) | undefined;
    let previews: PreviewDatabaseAccess | undefined;
    if (sharedServer) {
      ({ host, credentials, previews } = sharedServer);
      readCredentials = sharedServer.readCredentialsStatements;
    } else {
      const server = databaseServer(this, { ...this.backupSettings, server: environment.database, network: platform.databaseNetwork, databaseName: environment.database.name });
      this.database = server.database;
      this.backup = server.backup;
      host = this.database.instance.address;
      credentials = { remoteKey: this.database.secretArn, usernameProperty: "username", passwordProperty: "password" };
      readCredentials = this.database.readCredentialsStatements(server.key.arn);
      // Decrypting the master secret, and only by reading it through Secrets Manager.
      grantKey = (roleArn) => server.key.grantRole("ApplicationReadsDatabaseSecret", roleArn, ["kms:Decrypt"], "secretsmanager");
      // Pull-request previews borrowing this environment create their databases on its server.
      if (config.previews?.environment === environment.name) {
        previews = new AwsPreviewDatabaseAccess(this, "previews", {
          name,
          region: aws.region,
          admin: credentials,
          kmsKeyArn: server.key.arn,
          oidcProviderArn: platform.eks.oidcProvider.arn,
          oidcIssuerUrl: platform.eks.oidcIssuerUrl,
        }).access;
      }
    }

    // The environment's application service account: its own credentials and the registry, nothing else.
    const appRole = new ServiceRole(this, "app-role", {
      name: boundedName(64, name, "app"),
      trust: trustServiceAccount(this, "app-trust", platform.eks.oidcProvider.arn, platform.eks.oidcIssuerUrl, environment.name, IN_CLUSTER.applicationServiceAccount),
      statements: [...readCredentials, ...platform.registryPullStatements()],
    });
    grantKey?.(appRole.arn);

    for (const application of config.applications.filter((app) => environment.applications.includes(app.name))) {
      this.applications[application.name] = this.applicationResources(config.project, environment, application, platform);
    }

    this.endpoint = {
      host,
      port: POSTGRES_PORT,
      database: environment.database.name,
      credentials,
      cidrs: platform.network.databaseSubnetCidrs,
      applicationIdentity: { serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": appRole.arn }, podLabels: {} },
      secretStore: {
        aws: {
          service: "SecretsManager",
          region: aws.region,
          auth: { jwt: { serviceAccountRef: { name: IN_CLUSTER.applicationServiceAccount } } },
        },
      },
      setup: sharedServer?.setup,
      previews,
    };

    if (this.database) {
      new TerraformOutput(this, "database_address", { value: this.database.instance.address });
      new TerraformOutput(this, "database_secret_arn", { value: this.database.secretArn });
      // Read by `npm run doctor`.
      new TerraformOutput(this, "database_identifier", { value: this.database.instance.identifier });
    }
    if (this.backup) new TerraformOutput(this, "backup_vault", { value: this.backup.vault.name });
    for (const [application, bucket] of Object.entries(this.buckets)) {
      new TerraformOutput(this, `bucket_${application.replace(/-/g, "_")}`, { value: bucket.bucket.bucket, description: `Object storage of ${application}` });
    }
  }

  /**
   * An application's own role, through EKS Pod Identity for its service
   * account in this environment only, and its bucket when it asked for one.
   * Keyed by the application's name, so adding or removing one leaves the others.
   */
  private applicationResources(project: string, environment: EnvironmentConfig, application: ApplicationConfig, platform: AwsPlatformStack): ApplicationEndpoint {
    const none = { serviceAccountAnnotations: {}, podLabels: {} };
    const storage = application.objectStorage;
    if (!storage) return { identity: none };
    const serviceAccount = applicationServiceAccount(application.name);
    const role = new ServiceRole(this, `app-${application.name}-role`, {
      name: fittedName(64, project, environment.name, serviceAccount),
      trust: trustPodIdentity({ clusterName: platform.eks.cluster.name, namespace: environment.name, serviceAccount }),
    });
    new EksPodIdentityAssociation(this, `app-${application.name}-association`, {
      clusterName: platform.eks.cluster.name,
      namespace: environment.name,
      serviceAccount,
      roleArn: role.arn,
    });
    const bucket = new ApplicationBucket(this, `objects-${application.name}`, {
      project,
      environment: environment.name,
      application: application.name,
      region: this.backupSettings.region,
      accessRoleArn: role.arn,
      settings: storage,
      protect: environment.stage === "production",
    });
    role.addInlinePolicy("objects", bucket.accessStatements());
    this.buckets[application.name] = bucket;
    // Backups are a production matter: develop and staging objects are rebuilt, not restored.
    if (storage.backup && environment.stage === "production") {
      this.dataBackup().selectBucket(application.name, `${environment.name}-${application.name}`, bucket.bucket.arn, bucket.key, bucket.versioning ? [bucket.versioning] : []);
    }
    // The Pod Identity association carries the role; the service account needs no annotation.
    return { identity: none, objectStorage: bucket.endpoint() };
  }

  /** The environment's vault and plan: the own server's, or made for the first bucket backed up. */
  private dataBackup(): DataBackup {
    return (this.backup ??= dataBackup(this, this.backupSettings));
  }
}
