import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import type { DatabaseCredentials } from "../contract";

export interface DatabaseRoleSecretProps {
  /** Secret name, unique in the account and region. */
  readonly name: string;
  /** The role on the server the password is for. */
  readonly role: string;
  /** Encrypts the secret: the server's database key. */
  readonly kmsKeyArn: string;
  /** Raising it generates a new password on the next apply. */
  readonly version: number;
  /**
   * Production: `prevent_destroy`.
   * @default false
   */
  readonly protect?: boolean;
}

/**
 * The credentials of one environment's role on a shared server, as Secrets
 * Manager JSON (`username`, `password`) like the RDS-managed master secret.
 * Terraform generates the password straight into a write-only argument: it
 * is never in state, plan or cdktf.out, only in Secrets Manager, from where
 * the setup Job sets it on the role and External Secrets hands it to the
 * environment.
 */
export class DatabaseRoleSecret extends Construct {
  readonly secret: SecretsmanagerSecret;

  constructor(scope: Construct, id: string, props: DatabaseRoleSecretProps) {
    super(scope, id);
    this.secret = new SecretsmanagerSecret(this, "secret", {
      name: props.name,
      description: `Password of the role ${props.role}, set on the server by the environment's setup Job`,
      kmsKeyId: props.kmsKeyArn,
      // The longest window: a deleted secret can be restored for 30 days.
      recoveryWindowInDays: 30,
      lifecycle: { preventDestroy: props.protect ?? false },
    });
    new SecretsmanagerSecretVersion(this, "value", {
      secretId: this.secret.id,
      // uuid() is 128 bits from the operating system's CSPRNG, evaluated at apply.
      secretStringWo: Fn.jsonencode({ username: props.role, password: Fn.uuid() }),
      secretStringWoVersion: props.version,
    });
  }

  /** Where External Secrets reads the credentials. */
  get credentials(): DatabaseCredentials {
    return { remoteKey: this.secret.arn, usernameProperty: "username", passwordProperty: "password" };
  }
}
