import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketCorsConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-cors-configuration";
import { S3BucketLifecycleConfiguration, type S3BucketLifecycleConfigurationRule } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import type { ApplicationConfig } from "../../config";
import { fittedName } from "../common/naming";
import type { ObjectStorageEndpoint } from "../contract";
import type { PolicyStatement } from "./iam";
import { EncryptionKey } from "./kms-key";
import { hardenBucket } from "./private-bucket";

/** The EKS Pod Identity Agent's link-local address on every node (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-agent-setup.html). */
export const POD_IDENTITY_AGENT_CIDR = "169.254.170.23/32";

/** Days an interrupted multipart upload keeps its parts (and their cost) before S3 removes them. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 7;

/** Actions on objects the application holds: never `DeleteObjectVersion`, so it cannot destroy what versioning keeps. */
export const APPLICATION_OBJECT_ACTIONS = [
  "s3:GetObject",
  "s3:GetObjectVersion",
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:AbortMultipartUpload",
  "s3:ListMultipartUploadParts",
];
/** Actions on the bucket itself: listing, never configuring. */
export const APPLICATION_BUCKET_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads", "s3:GetBucketLocation"];

export interface ApplicationBucketProps {
  readonly project: string;
  readonly environment: string;
  readonly application: string;
  readonly region: string;
  /** The one role that may use the objects: the application's, in this environment. */
  readonly accessRoleArn: string;
  readonly settings: NonNullable<ApplicationConfig["objectStorage"]>;
  /**
   * Production: deletion refused while objects remain, `prevent_destroy` on
   * the bucket and its key.
   * @default false
   */
  readonly protect?: boolean;
}

/**
 * One application's bucket in one environment: hardened as every platform
 * bucket, under a key of its own whose policy lets only the application's
 * role (and, when backed up, AWS Backup's role) use it, through S3. An
 * account administrator can configure the bucket but cannot read an object.
 * Versioning, the noncurrent-version lifecycle and CORS come from the config.
 */
export class ApplicationBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly key: EncryptionKey;
  /** Present when versioning is on: backups and noncurrent rules wait for it. */
  readonly versioning?: S3BucketVersioningA;
  private readonly region: string;

  constructor(scope: Construct, id: string, props: ApplicationBucketProps) {
    super(scope, id);
    const protect = props.protect ?? false;
    const { settings } = props;
    this.region = props.region;
    // The account from the role's ARN rather than a caller-identity lookup, which would make every plan call STS.
    const account = Fn.element(Fn.split(":", props.accessRoleArn), 4);
    // Globally unique: the account and region follow, and a name too long for the rest is shortened with a hash.
    const base = fittedName(63 - "-123456789012-".length - props.region.length, props.project, props.environment, props.application);

    this.bucket = new S3Bucket(this, "bucket", {
      bucket: `${base}-${account}-${props.region}`,
      forceDestroy: !protect,
      lifecycle: { preventDestroy: protect },
    });
    this.key = new EncryptionKey(this, "key", {
      alias: `${props.project}/${props.environment}/objects/${props.application}`,
      description: `Objects of ${props.application} in ${props.environment}`,
      region: props.region,
      // Objects written under it are unreadable without it.
      preventDestroy: protect,
    });
    this.key.grantRole("ApplicationUsesKeyThroughS3", props.accessRoleArn, ["kms:Decrypt", "kms:GenerateDataKey"], "s3");
    hardenBucket(this, this.bucket, this.key.arn);

    if (settings.versioning) {
      this.versioning = new S3BucketVersioningA(this, "versioning", { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } });
    }
    const rules: S3BucketLifecycleConfigurationRule[] = [
      {
        id: "tidy",
        status: "Enabled",
        filter: [{}],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS }],
        // A delete marker whose versions are all gone only slows listings.
        ...(settings.versioning ? { expiration: [{ expiredObjectDeleteMarker: true }] } : {}),
        ...(settings.noncurrentVersionDays !== undefined ? { noncurrentVersionExpiration: [{ noncurrentDays: settings.noncurrentVersionDays }] } : {}),
      },
    ];
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: rules,
      // Noncurrent rules need versioning in place.
      dependsOn: this.versioning ? [this.versioning] : undefined,
    });
    if (settings.cors.length > 0) {
      new S3BucketCorsConfiguration(this, "cors", {
        bucket: this.bucket.id,
        corsRule: settings.cors.map((rule) => ({
          allowedOrigins: rule.origins,
          allowedMethods: rule.methods,
          allowedHeaders: rule.headers,
          exposeHeaders: rule.exposeHeaders,
          maxAgeSeconds: rule.maxAgeSeconds,
        })),
      });
    }
  }

  /** What the application's role needs: its objects and the key, nothing else. */
  accessStatements(): PolicyStatement[] {
    return [
      { Sid: "ListOwnBucket", Effect: "Allow", Action: APPLICATION_BUCKET_ACTIONS, Resource: this.bucket.arn },
      { Sid: "UseOwnObjects", Effect: "Allow", Action: APPLICATION_OBJECT_ACTIONS, Resource: `${this.bucket.arn}/*` },
      { Sid: "UseOwnObjectKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: this.key.arn },
    ];
  }

  /** How the application finds its bucket. */
  endpoint(): ObjectStorageEndpoint {
    const region = this.region;
    return {
      provider: "s3",
      bucket: this.bucket.bucket,
      endpoint: `https://s3.${region}.amazonaws.com`,
      settings: { AWS_REGION: region },
      // S3 over HTTPS, and the node's EKS Pod Identity Agent, which hands out the role's credentials.
      egress: [
        { cidr: "0.0.0.0/0", port: 443 },
        { cidr: POD_IDENTITY_AGENT_CIDR, port: 80 },
      ],
    };
  }
}
