import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { LOKI_DATA_PREFIXES } from "../common/log-store";
import type { PolicyStatement } from "./iam";
import { hardenBucket } from "./private-bucket";
import { EncryptionKey } from "./kms-key";

/** Days a deleted or overwritten object stays recoverable (see `AwsLogStore`). */
export const LOG_NONCURRENT_DAYS = 7;

export interface AwsLogStoreProps {
  /** Bucket name prefix; the account id and region are appended for global uniqueness. */
  readonly namePrefix: string;
  readonly region: string;
  /** Days after which objects expire, mirroring the log store's longest retention. */
  readonly expiryDays: number;
  /** ARN of the only role that may use the key: the log store's. */
  readonly userRoleArn: string;
  /**
   * Keep the bucket and its key through a `terraform destroy`, and refuse to
   * delete the bucket while it holds objects.
   * @default false
   */
  readonly protect?: boolean;
}

/**
 * The log store's bucket: hardened as every platform bucket (`hardenBucket`),
 * encrypted with a key of its own that only the log store's role may use
 * (through S3), and a lifecycle that expires what the log store's retention has
 * passed. Versioning is on with a short noncurrent window: Loki deletes and
 * rewrites objects (retention, index compaction), so deleted data stays
 * recoverable for a week after a mistake and then goes, instead of piling up.
 */
export class AwsLogStore extends Construct {
  readonly bucket: S3Bucket;
  readonly key: EncryptionKey;

  constructor(scope: Construct, id: string, props: AwsLogStoreProps) {
    super(scope, id);
    // The account from the role's ARN rather than a caller-identity lookup,
    // which would make every plan call STS.
    const account = Fn.element(Fn.split(":", props.userRoleArn), 4);

    this.bucket = new S3Bucket(this, "bucket", {
      bucket: `${props.namePrefix}-logs-${account}-${props.region}`,
      forceDestroy: !(props.protect ?? false),
      lifecycle: { preventDestroy: props.protect ?? false },
    });

    // Administration stays with the account's IAM; using the key on data is Loki's alone, through S3.
    this.key = new EncryptionKey(this, "key", {
      alias: `${props.namePrefix}/logs`,
      description: `Log store (Loki) objects of ${props.namePrefix}`,
      region: props.region,
      // Objects written under it are unreadable without it.
      preventDestroy: props.protect ?? false,
    });
    this.key.grantRole("LogStoreUsesKeyThroughS3", props.userRoleArn, ["kms:Decrypt", "kms:GenerateDataKey"], "s3");

    hardenBucket(this, this.bucket, this.key.arn);
    const versioning = new S3BucketVersioningA(this, "versioning", { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: [
        // Only what Loki's retention governs; the compactor's delete requests and
        // cluster seed live elsewhere in the bucket and are kept.
        ...LOKI_DATA_PREFIXES.map((prefix, i) => ({
          id: `expire-${i === 0 ? "chunks" : "index"}`,
          status: "Enabled",
          filter: [{ prefix }],
          expiration: [{ days: props.expiryDays }],
        })),
        {
          id: "tidy",
          status: "Enabled",
          filter: [{}],
          noncurrentVersionExpiration: [{ noncurrentDays: LOG_NONCURRENT_DAYS }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
          expiration: [{ expiredObjectDeleteMarker: true }],
        },
      ],
      // The noncurrent rule needs versioning in place.
      dependsOn: [versioning],
    });
  }

  /** Statements that let the log store read, write and delete its objects, and nothing else. */
  accessStatements(): PolicyStatement[] {
    return [
      { Sid: "ListLogBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: this.bucket.arn },
      { Sid: "UseLogObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${this.bucket.arn}/*` },
      { Sid: "UseLogKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: this.key.arn },
    ];
  }

  get name(): string {
    return this.bucket.bucket;
  }
}
