import { Construct } from "constructs";
import { fittedName } from "../common/naming";
import { IN_CLUSTER, type DatabaseCredentials, type PreviewDatabaseAccess } from "../contract";
import { PREVIEW_DATABASE } from "../environment/preview-database";
import { DatabaseRoleSecret } from "./database-role-secret";
import { ServiceRole, trustServiceAccount, type PolicyStatement } from "./iam";

export interface AwsPreviewDatabaseAccessProps {
  /** The server's name: prefixes the secret and the roles. */
  readonly name: string;
  readonly region: string;
  /** The server administrator's secret (RDS-managed). */
  readonly admin: DatabaseCredentials;
  /** The server's key: encrypts the `pr_admin` secret, decrypts both. */
  readonly kmsKeyArn: string;
  readonly oidcProviderArn: string;
  readonly oidcIssuerUrl: string;
}

/**
 * What pull-request previews need on a server: the `pr_admin` password,
 * generated write-only into Secrets Manager (never in state), a role for the
 * one-time setup that reads it and the administrator's secret, and a role
 * for the previews' delivery namespace that reads it alone.
 */
export class AwsPreviewDatabaseAccess extends Construct {
  readonly access: PreviewDatabaseAccess;

  constructor(scope: Construct, id: string, props: AwsPreviewDatabaseAccessProps) {
    super(scope, id);
    const secret = new DatabaseRoleSecret(this, "credentials", { name: `${props.name}/${PREVIEW_DATABASE.adminRole}`, role: PREVIEW_DATABASE.adminRole, kmsKeyArn: props.kmsKeyArn, version: 1 });
    const read = (secretArns: string[]): PolicyStatement[] => [
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: secretArns },
      { Effect: "Allow", Action: "kms:Decrypt", Resource: props.kmsKeyArn },
    ];
    const role = (suffix: string, namespace: string, serviceAccount: string, secretArns: string[]) =>
      new ServiceRole(this, suffix, {
        name: fittedName(64, props.name, suffix),
        trust: trustServiceAccount(this, `${suffix}-trust`, props.oidcProviderArn, props.oidcIssuerUrl, namespace, serviceAccount),
        statements: read(secretArns),
      });
    const { setupServiceAccount, serviceAccount, namespace } = IN_CLUSTER.previewDatabase;
    const setup = role("previews-setup", IN_CLUSTER.databaseSetup.namespace, setupServiceAccount, [props.admin.remoteKey, secret.secret.arn]);
    const delivery = role("previews-database", namespace, serviceAccount, [secret.secret.arn]);
    const store = (account: string) => ({ aws: { service: "SecretsManager", region: props.region, auth: { jwt: { serviceAccountRef: { name: account } } } } });
    this.access = {
      credentials: secret.credentials,
      setup: {
        admin: props.admin,
        revision: "1",
        identity: { serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": setup.arn }, podLabels: {} },
        secretStore: store(setupServiceAccount),
      },
      identity: { serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": delivery.arn }, podLabels: {} },
      secretStore: store(serviceAccount),
    };
  }
}
