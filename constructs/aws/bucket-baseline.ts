import type { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketNotification } from "@cdktf/provider-aws/lib/s3-bucket-notification";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import type { Construct } from "constructs";
import type { PolicyStatement } from "./iam";

/**
 * What every bucket of the platform has, created in `scope` (ids
 * `public-access`, `ownership`, `encryption`, `events`): public access
 * blocked, ACLs off, encryption with the bucket's own key (the bucket key
 * cuts KMS requests, and their cost, by orders of magnitude), and object
 * events on the account's default EventBridge bus (free for AWS service
 * events), where an audit rule can watch them.
 */
export function bucketBaseline(scope: Construct, bucket: S3Bucket, keyArn: string): void {
  new S3BucketPublicAccessBlock(scope, "public-access", {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  new S3BucketOwnershipControls(scope, "ownership", { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
  new S3BucketServerSideEncryptionConfigurationA(scope, "encryption", {
    bucket: bucket.id,
    rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn }, bucketKeyEnabled: true }],
  });
  new S3BucketNotification(scope, "events", { bucket: bucket.id, eventbridge: true });
}

/** Bucket policy statements refusing every request without TLS, or with TLS older than 1.2. */
export function tlsOnlyStatements(bucketArn: string): PolicyStatement[] {
  const deny = (sid: string, condition: PolicyStatement["Condition"]): PolicyStatement => ({
    Sid: sid,
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: condition,
  });
  return [deny("DenyInsecureTransport", { Bool: { "aws:SecureTransport": "false" } }), deny("DenyOutdatedTls", { NumericLessThan: { "s3:TlsVersion": "1.2" } })];
}
