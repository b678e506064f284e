import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { hardenBucket } from "./private-bucket";
import { EncryptionKey } from "./kms-key";

/** Days an overwritten or deleted state version stays recoverable. */
export const STATE_NONCURRENT_DAYS = 90;

export interface StateBucketProps {
  /** Globally unique bucket name: `clouds.aws.stateBackend.bucket`. */
  readonly bucket: string;
  /** Alias of the bucket's key, without `alias/`. */
  readonly keyAlias: string;
  /** Region of the bucket and its key. */
  readonly region: string;
}

/**
 * Terraform's state, for every stack: a bucket that keeps every version for
 * 90 days, encrypted with a key of its own (S3 bucket key on), public access
 * blocked, ACLs off, TLS 1.2 or newer required, and no way for anyone to
 * delete a state object short of changing the bucket policy first. The
 * bucket and its key survive `terraform destroy` (`prevent_destroy`), and S3
 * refuses to delete a bucket that holds objects (`force_destroy` is off).
 * Locks are S3 objects beside each state (`use_lockfile`), so there is no
 * lock table.
 */
export class StateBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly key: EncryptionKey;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    // Roles and people of the account use it through S3 only, as their IAM policies allow.
    this.key = new EncryptionKey(this, "key", {
      alias: props.keyAlias,
      description: `Terraform state in ${props.bucket}`,
      region: props.region,
      viaServices: ["s3"],
      preventDestroy: true,
    });

    this.bucket = new S3Bucket(this, "bucket", {
      bucket: props.bucket,
      forceDestroy: false,
      lifecycle: { preventDestroy: true },
    });
    const arn = this.bucket.arn;

    hardenBucket(this, this.bucket, this.key.arn, [
      {
        // Terraform never deletes a state object; only its lock objects come and go.
        Sid: "DenyStateDeletion",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
        Resource: `${arn}/*.tfstate`,
      },
    ]);
    const versioning = new S3BucketVersioningA(this, "versioning", { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "state-history",
          status: "Enabled",
          filter: [{}],
          noncurrentVersionExpiration: [{ noncurrentDays: STATE_NONCURRENT_DAYS }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
          expiration: [{ expiredObjectDeleteMarker: true }],
        },
      ],
      // The noncurrent rule needs versioning in place.
      dependsOn: [versioning],
    });
  }

  get arn(): string {
    return this.bucket.arn;
  }
}
