import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, type TerraformStack } from "cdktf";
import type { AwsConfig, PlatformConfig } from "../../config";
import { standardTags } from "../common/naming";
import { stateKey } from "../common/ci-state";
import { useLocalState } from "../common/state";

export interface AwsStackSetupProps {
  readonly config: PlatformConfig;
  readonly aws: AwsConfig;
  readonly stackId: string;
  /** Value of the `environment` tag: an environment name, or `platform` for shared resources. */
  readonly environment: string;
}

/**
 * The provider and backend every AWS stack starts with. Tags go through
 * `default_tags`, so every taggable resource gets them; user tags come first
 * and the program's three tags cannot be overridden (the config schema rejects
 * them as user tag keys), while a resource's own tags still win over both.
 */
export function setUpAwsStack(stack: TerraformStack, props: AwsStackSetupProps): AwsProvider {
  const { config, aws, stackId, environment } = props;
  useAwsState(stack, aws, stackId);
  return new AwsProvider(stack, "aws", {
    region: aws.region,
    defaultTags: [{ tags: { ...config.tags, ...standardTags(config.project, environment) } }],
  });
}

/** The S3 backend when the config names a state bucket, local state otherwise. */
export function useAwsState(stack: TerraformStack, aws: AwsConfig, stackId: string): void {
  const backend = aws.stateBackend;
  if (backend) {
    new S3Backend(stack, {
      bucket: backend.bucket,
      key: stateKey(backend.keyPrefix, stackId),
      region: backend.region,
      encrypt: true,
      kmsKeyId: backend.kmsKeyId,
    });
    // S3-native locking (Terraform 1.10+); no DynamoDB table needed.
    stack.addOverride("terraform.backend.s3.use_lockfile", true);
  } else {
    useLocalState(stack, stackId);
  }
}
