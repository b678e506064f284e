import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsKeyPolicy } from "@cdktf/provider-aws/lib/kms-key-policy";
import { Fn, Lazy, type TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { policyDocument, type PolicyStatement } from "./iam";

/**
 * Managing the key, never using it: the account's IAM decides who administers
 * keys (the deployer, the administrators), but no IAM policy alone can encrypt
 * or decrypt with it. `Create*` covers the grants EKS and backup vaults are
 * created with; `Put*` keeps Terraform able to update this policy.
 */
export const KEY_ADMINISTRATION_ACTIONS = [
  "kms:Create*",
  "kms:Describe*",
  "kms:Enable*",
  "kms:List*",
  "kms:Put*",
  "kms:Update*",
  "kms:Revoke*",
  "kms:Disable*",
  "kms:Get*",
  "kms:Delete*",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:RotateKeyOnDemand",
];

/** What a service needs to encrypt a resource with the key and to create the grants it works through. */
export const SERVICE_USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"];

export interface EncryptionKeyProps {
  /** Alias without the `alias/` prefix. */
  readonly alias: string;
  readonly description: string;
  /** Region of the services that use the key, for their `kms:ViaService` names. */
  readonly region: string;
  /**
   * AWS services through which the account's principals use the key, by
   * endpoint prefix (`rds`, `secretsmanager`, `ecr`, `backup`, `sns`): a
   * principal may use the key only by way of one of these services.
   * @default - none
   */
  readonly viaServices?: string[];
  /**
   * Keep the key through a `terraform destroy` of its stack.
   * @default false
   */
  readonly preventDestroy?: boolean;
  /** The provider (and so the region) the key lives in. @default the stack's default AWS provider */
  readonly provider?: TerraformProvider;
}

/**
 * A customer-managed key with yearly rotation, the longest deletion window and
 * a least-privilege key policy: administration through the account's IAM, use
 * only by the services and roles named on the key.
 */
export class EncryptionKey extends Construct {
  readonly key: KmsKey;
  readonly policy: KmsKeyPolicy;
  /** The key's account, read from its ARN so that planning needs no credentials. */
  readonly accountId: string;
  readonly partition: string;
  private readonly region: string;
  private readonly statements: PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    this.region = props.region;
    const provider = props.provider;
    this.key = new KmsKey(this, "key", {
      provider,
      description: props.description,
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
      // A deleted key makes every snapshot and backup it encrypted unreadable.
      deletionWindowInDays: 30,
      lifecycle: { preventDestroy: props.preventDestroy ?? false },
    });
    new KmsAlias(this, "alias", { provider, name: `alias/${props.alias}`, targetKeyId: this.key.keyId });
    this.partition = Fn.element(Fn.split(":", this.key.arn), 1);
    this.accountId = Fn.element(Fn.split(":", this.key.arn), 4);

    this.statements.push({
      Sid: "KeyAdministration",
      Effect: "Allow",
      Principal: { AWS: `arn:${this.partition}:iam::${this.accountId}:root` },
      Action: KEY_ADMINISTRATION_ACTIONS,
      Resource: "*",
    });
    for (const service of props.viaServices ?? []) {
      this.statements.push({
        Sid: `UseThrough${service.charAt(0).toUpperCase()}${service.slice(1).replace(/[^A-Za-z0-9]/g, "")}`,
        Effect: "Allow",
        Principal: { AWS: `arn:${this.partition}:iam::${this.accountId}:root` },
        Action: SERVICE_USE_ACTIONS,
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": this.viaService(service), "kms:CallerAccount": this.accountId } },
      });
    }

    // Its own resource, so that roles and log groups named in the policy can
    // refer to the key (and the key's account) without a cycle.
    this.policy = new KmsKeyPolicy(this, "policy", {
      provider,
      keyId: this.key.keyId,
      policy: Lazy.stringValue({ produce: () => policyDocument(this.statements) }),
    });
  }

  /**
   * Lets one IAM role use the key directly; with `viaService`, only through
   * that service (a role reading a secret decrypts through Secrets Manager);
   * with `encryptionContext`, only for the resource the service names in it
   * (SNS passes `aws:sns:topicArn`).
   */
  grantRole(sid: string, roleArn: string, actions: string[], viaService?: string, encryptionContext?: Record<string, string>): void {
    const conditions: Record<string, string> = {
      ...(viaService ? { "kms:ViaService": this.viaService(viaService) } : {}),
      ...Object.fromEntries(Object.entries(encryptionContext ?? {}).map(([key, value]) => [`kms:EncryptionContext:${key}`, value])),
    };
    this.statements.push({
      Sid: sid,
      Effect: "Allow",
      Principal: { AWS: roleArn },
      Action: actions,
      Resource: "*",
      ...(Object.keys(conditions).length > 0 ? { Condition: { StringEquals: conditions } } : {}),
    });
  }

  /**
   * Lets an AWS service principal (`backup.amazonaws.com`) use the key on its
   * own behalf, narrowed by `conditions` where the service sets a context.
   */
  grantServicePrincipal(sid: string, service: string, actions: string[], conditions?: PolicyStatement["Condition"]): void {
    this.statements.push({
      Sid: sid,
      Effect: "Allow",
      Principal: { Service: service },
      Action: actions,
      Resource: "*",
      ...(conditions ? { Condition: conditions } : {}),
    });
  }

  /**
   * Lets CloudWatch Logs encrypt one log group of the key's region with it;
   * the encryption context names the group, so the grant reaches no other.
   */
  grantLogGroup(sid: string, logGroupName: string): void {
    this.grantServicePrincipal(
      sid,
      `logs.${this.region}.amazonaws.com`,
      ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": `arn:${this.partition}:logs:${this.region}:${this.accountId}:log-group:${logGroupName}` } },
    );
  }

  /** The key policy's statements so far, for tests and reviews. */
  get policyStatements(): readonly PolicyStatement[] {
    return [...this.statements];
  }

  private viaService(service: string): string {
    return `${service}.${this.region}.amazonaws.com`;
  }

  get arn(): string {
    return this.key.arn;
  }
}
