import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AwsConfig, DatabaseServerConfig, EnvironmentConfig, PlatformConfig } from "../config";
import { databaseServerStackPart } from "../config/environments";
import { databaseServer } from "../constructs/aws/database-server";
import { DatabaseRoleSecret } from "../constructs/aws/database-role-secret";
import { ServiceRole, trustServiceAccount, type PolicyStatement } from "../constructs/aws/iam";
import type { RdsPostgres } from "../constructs/aws/postgres";
import { AwsPreviewDatabaseAccess } from "../constructs/aws/preview-database-access";
import { setUpAwsStack } from "../constructs/aws/stack-setup";
import { boundedName, fittedName } from "../constructs/common/naming";
import { databaseSetupServiceAccount, IN_CLUSTER, type DatabaseCredentials, type DatabaseSetupAccess, type PreviewDatabaseAccess } from "../constructs/contract";
import type { AwsPlatformStack } from "./aws-platform-stack";

export interface AwsDatabaseServerStackProps {
  readonly config: PlatformConfig;
  readonly aws: AwsConfig;
  readonly server: DatabaseServerConfig;
  readonly platform: AwsPlatformStack;
}

/** What one environment on the server gets: its credentials, and what its setup Job works with. */
export interface AwsServerTenant {
  readonly host: string;
  readonly credentials: DatabaseCredentials;
  readonly setup: DatabaseSetupAccess;
  /** What the environment's application service account needs to read its credentials. */
  readonly readCredentialsStatements: PolicyStatement[];
  /** Present for the environment pull-request previews borrow: their databases go on this server. */
  readonly previews?: PreviewDatabaseAccess;
}

/**
 * A PostgreSQL server several environments share (`databaseServers[]`), in
 * its own state, as an environment's own server is: the instance, its keys,
 * backups and alarms. Per environment on it, keyed by the environment's name:
 * the generated password of its role and the identity its setup Job reads
 * the administrator's and that password with. Removing an environment from
 * the server deletes its secret, which the destroy guard refuses like a server.
 */
export class AwsDatabaseServerStack extends TerraformStack {
  readonly database: RdsPostgres;
  readonly tenants: Record<string, AwsServerTenant> = {};

  constructor(scope: Construct, id: string, props: AwsDatabaseServerStackProps) {
    super(scope, id);
    const { config, aws, platform } = props;
    setUpAwsStack(this, { config, aws, stackId: id, environment: databaseServerStackPart(props.server.name) });
    const environments = config.environments.filter((env) => env.database.server === props.server.name);
    const production = (env: EnvironmentConfig) => env.stage === "production";
    const protect = environments.some(production);
    const name = boundedName(63, config.project, props.server.name);

    const server = databaseServer(this, { name, region: aws.region, backup: aws.backup, protect, server: props.server, network: platform.databaseNetwork });
    const databaseKey = server.key;
    this.database = server.database;

    const admin: DatabaseCredentials = { remoteKey: this.database.secretArn, usernameProperty: "username", passwordProperty: "password" };
    const borrowed = environments.find((environment) => environment.name === config.previews?.environment);
    const previews =
      borrowed &&
      new AwsPreviewDatabaseAccess(this, "previews", { name, region: aws.region, admin, kmsKeyArn: databaseKey.arn, oidcProviderArn: platform.eks.oidcProvider.arn, oidcIssuerUrl: platform.eks.oidcIssuerUrl }).access;
    for (const environment of environments) {
      const role = environment.database.name;
      const secret = new DatabaseRoleSecret(this, `credentials-${environment.name}`, {
        name: `${name}/${environment.name}`,
        role,
        kmsKeyArn: databaseKey.arn,
        version: environment.database.passwordVersion,
        protect: production(environment),
      });
      const serviceAccount = databaseSetupServiceAccount(environment.name);
      // The setup Job's store reads the administrator's secret and this environment's, nothing else.
      const setupRole = new ServiceRole(this, `setup-${environment.name}`, {
        name: fittedName(64, name, "setup", environment.name),
        trust: trustServiceAccount(
          this,
          `setup-${environment.name}-trust`,
          platform.eks.oidcProvider.arn,
          platform.eks.oidcIssuerUrl,
          IN_CLUSTER.databaseSetup.namespace,
          serviceAccount,
        ),
        statements: [
          { Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: [this.database.secretArn, secret.secret.arn] },
          { Effect: "Allow", Action: "kms:Decrypt", Resource: databaseKey.arn },
        ],
      });
      this.tenants[environment.name] = {
        host: this.database.instance.address,
        credentials: secret.credentials,
        setup: {
          role,
          admin,
          revision: String(environment.database.passwordVersion),
          identity: { serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": setupRole.arn }, podLabels: {} },
          secretStore: { aws: { service: "SecretsManager", region: aws.region, auth: { jwt: { serviceAccountRef: { name: serviceAccount } } } } },
        },
        readCredentialsStatements: [
          { Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: secret.secret.arn },
          { Effect: "Allow", Action: "kms:Decrypt", Resource: databaseKey.arn },
        ],
        ...(environment === borrowed && { previews }),
      };
    }

    new TerraformOutput(this, "database_address", { value: this.database.instance.address });
    new TerraformOutput(this, "database_secret_arn", { value: this.database.secretArn, description: "The administrator's credentials (RDS-managed)" });
  }
}
