import type { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketNotification } from "@cdktf/provider-aws/lib/s3-bucket-notification";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import type { Construct } from "constructs";
import { policyDocument, type PolicyStatement } from "./iam";

/**
 * What every bucket of the platform has, added beside the bucket in `scope`
 * (ids `public-access`, `ownership`, `encryption`, `policy`, `events`): public
 * access blocked, ACLs off, SSE-KMS under the bucket's own key with an S3
 * bucket key, TLS 1.2 or later required, and object events on the account's
 * default EventBridge bus (free for AWS service events), where an audit rule
 * can watch deletions and AWS Backup for S3 finds the changes it needs.
 * `statements` join the bucket policy after the TLS rules.
 */
export function hardenBucket(scope: Construct, bucket: S3Bucket, keyArn: string, statements: PolicyStatement[] = []): void {
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
    // The bucket key cuts KMS requests (and their cost) by orders of magnitude.
    rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn }, bucketKeyEnabled: true }],
  });
  new S3BucketPolicy(scope, "policy", { bucket: bucket.id, policy: policyDocument([...tlsOnlyStatements(bucket.arn), ...statements]) });
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
