import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { portString } from "../common/port";
import type { DatabaseEndpoint } from "../contract";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";

export interface DatabaseSecretProps {
  readonly namespace: string;
  readonly database: DatabaseEndpoint;
  /** Kubernetes secret the applications read. @default "database" */
  readonly secretName?: string;
  /** @default "1h" */
  readonly refreshInterval?: string;
  /**
   * Changes whenever the password does: a new value makes External Secrets
   * read the secret again at once instead of at the next refresh.
   * @default - none: the password changes on the cloud's own schedule
   */
  readonly revision?: string;
  readonly dependsOn?: ITerraformDependable[];
}

const STORE_NAME = "database";

/** An annotation whose change makes External Secrets sync at once (it compares the object's metadata with what it last synced). */
export const PASSWORD_REVISION_ANNOTATION = "platform.kit/password-revision";

/**
 * The environment's database credentials as a Kubernetes secret with `host`,
 * `port`, `database`, `user` and `password`. A namespaced SecretStore
 * authenticates as the application service account, which can read only this
 * environment's credentials; the External Secrets Operator copies them into
 * the cluster. Terraform handles only the secret's address, never its value.
 */
export class DatabaseSecret extends Construct {
  readonly secretName: string;
  readonly release: ManifestsRelease;

  constructor(scope: Construct, id: string, props: DatabaseSecretProps) {
    super(scope, id);
    const { database, namespace } = props;
    const { credentials } = database;
    this.secretName = props.secretName ?? "database";
    if (credentials.usernameProperty === undefined && credentials.username === undefined) {
      throw new Error(`${this.node.path}: the database credentials name neither usernameProperty nor username`);
    }
    const remote = (secretKey: string, property: string | undefined) => ({
      secretKey,
      remoteRef: { key: credentials.remoteKey, ...(property !== undefined && { property }) },
    });
    const port = portString(database.port);

    const store: KubernetesObject = {
      apiVersion: "external-secrets.io/v1",
      kind: "SecretStore",
      metadata: { name: STORE_NAME, namespace },
      spec: { provider: database.secretStore },
    };
    const externalSecret: KubernetesObject = {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name: this.secretName, namespace, ...(props.revision !== undefined && { annotations: { [PASSWORD_REVISION_ANNOTATION]: props.revision } }) },
      spec: {
        refreshInterval: props.refreshInterval ?? "1h",
        secretStoreRef: { kind: "SecretStore", name: STORE_NAME },
        target: {
          name: this.secretName,
          creationPolicy: "Owner",
          template: {
            engineVersion: "v2",
            type: "Opaque",
            data: {
              host: database.host,
              port,
              database: database.database,
              user: credentials.usernameProperty !== undefined ? "{{ .user }}" : credentials.username,
              password: "{{ .password }}",
            },
          },
        },
        data: [
          ...(credentials.usernameProperty !== undefined ? [remote("user", credentials.usernameProperty)] : []),
          remote("password", credentials.passwordProperty),
        ],
      },
    };
    this.release = new ManifestsRelease(this, "manifests", {
      name: `${namespace}-database-secret`,
      namespace,
      manifests: [store, externalSecret],
      dependsOn: props.dependsOn,
    });
  }
}
