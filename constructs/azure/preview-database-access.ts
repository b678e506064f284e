import { KeyVaultSecret } from "@cdktf/provider-azurerm/lib/key-vault-secret";
import { Construct } from "constructs";
import { fittedName } from "../common/naming";
import { IN_CLUSTER, type DatabaseCredentials, type PreviewDatabaseAccess } from "../contract";
import { PREVIEW_DATABASE } from "../environment/preview-database";
import { ADMIN_PASSWORD_PREFIX } from "./postgres";
import { ROLES } from "./role-assignment";
import { ServiceAccountIdentity } from "./workload-identity";

export interface AzurePreviewDatabaseAccessProps {
  /** The server's name: prefixes the secret and the identities. */
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly keyVault: { readonly id: string; readonly uri: string };
  readonly oidcIssuerUrl: string;
  /** The administrator's password secret: its name, and its versionless id for the setup's read grant. */
  readonly admin: DatabaseCredentials;
  readonly adminSecretId: string;
}

/**
 * What pull-request previews need on a Flexible Server: the `pr_admin`
 * password, generated write-only into the Key Vault (never in state), an
 * identity for the one-time setup that reads it and the administrator's
 * password, and one for the previews' delivery namespace that reads it alone.
 */
export class AzurePreviewDatabaseAccess extends Construct {
  readonly access: PreviewDatabaseAccess;

  constructor(scope: Construct, id: string, props: AzurePreviewDatabaseAccessProps) {
    super(scope, id);
    // Environments' role secrets end in -password: no environment's name can make this one's.
    const secret = new KeyVaultSecret(this, "credentials", {
      name: `${props.name}-previews-admin`,
      keyVaultId: props.keyVault.id,
      contentType: `password of ${PREVIEW_DATABASE.adminRole} on ${props.name}`,
      valueWo: `${ADMIN_PASSWORD_PREFIX}\${uuid()}`,
      valueWoVersion: 1,
    });
    const identity = (suffix: string, namespace: string, serviceAccount: string) =>
      new ServiceAccountIdentity(this, suffix, {
        name: fittedName(128, props.name, suffix),
        location: props.location,
        resourceGroupName: props.resourceGroupName,
        issuer: props.oidcIssuerUrl,
        namespace,
        serviceAccount,
      });
    const { setupServiceAccount, serviceAccount, namespace } = IN_CLUSTER.previewDatabase;
    const setup = identity("previews-setup", IN_CLUSTER.databaseSetup.namespace, setupServiceAccount);
    setup.grant("read-admin-password", ROLES.keyVaultSecretsUser, props.adminSecretId);
    setup.grant("read-previews-password", ROLES.keyVaultSecretsUser, secret.resourceVersionlessId);
    const delivery = identity("previews-database", namespace, serviceAccount);
    delivery.grant("read-previews-password", ROLES.keyVaultSecretsUser, secret.resourceVersionlessId);
    const store = (account: string) => ({ azurekv: { authType: "WorkloadIdentity", vaultUrl: props.keyVault.uri, serviceAccountRef: { name: account } } });
    this.access = {
      credentials: { remoteKey: secret.name, username: PREVIEW_DATABASE.adminRole },
      setup: { admin: props.admin, revision: "1", identity: setup.workloadIdentity, secretStore: store(setupServiceAccount) },
      identity: delivery.workloadIdentity,
      secretStore: store(serviceAccount),
    };
  }
}
