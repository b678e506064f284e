import { productionEnvironments } from "../constructs/common/uptime-targets";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AwsConfig, PlatformConfig } from "../config";
import { stateKeyAlias, type CiConfig } from "../config/ci";
import { AwsCiRoles } from "../constructs/aws/ci-roles";
import { StateBucket } from "../constructs/aws/state-bucket";
import { stateKey } from "../constructs/common/ci-state";
import { githubVariableOutputs } from "../constructs/common/github-variables";
import { standardTags } from "../constructs/common/naming";
import { useLocalState } from "../constructs/common/state";
import { clusterStackParts } from "../config/clusters";
import { environmentsWhere } from "../config/stages";

export interface AwsBootstrapStackProps {
  readonly config: PlatformConfig;
  readonly aws: AwsConfig;
  readonly ci: CiConfig;
  /** The stacks the workflows plan and apply: their states are what the roles may touch. */
  readonly stacks: () => readonly TerraformStack[];
}

/**
 * What must exist before the first workflow runs, deployed once from a
 * workstation: the state bucket every other stack keeps its state in, and
 * the GitHub OIDC provider with the four CI roles. It keeps its own state in
 * a local file until it is moved into the bucket it created
 * (`stateBackend.bootstrapStateInBackend`, docs/bootstrap.md); the workflows
 * never plan or apply it.
 */
export class AwsBootstrapStack extends TerraformStack {
  readonly state: StateBucket;
  readonly roles: AwsCiRoles;

  constructor(scope: Construct, id: string, props: AwsBootstrapStackProps) {
    super(scope, id);
    const { config, aws, ci } = props;
    // The config requires a state backend with ci.
    const backend = aws.stateBackend!;
    if (backend.bootstrapStateInBackend) {
      new S3Backend(this, { bucket: backend.bucket, key: stateKey(backend.keyPrefix, id), region: backend.region, encrypt: true, kmsKeyId: backend.kmsKeyId });
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      useLocalState(this, id);
    }
    // The bucket and its key live in the state's region; IAM is global.
    new AwsProvider(this, "aws", {
      region: backend.region,
      defaultTags: [{ tags: { ...config.tags, ...standardTags(config.project, "bootstrap") } }],
    });

    this.state = new StateBucket(this, "state", { bucket: backend.bucket, keyAlias: stateKeyAlias(config.project), region: backend.region });

    const production = productionEnvironments(config);
    this.roles = new AwsCiRoles(this, "ci", {
      project: config.project,
      ci,
      state: { bucketArn: this.state.arn, keyArn: this.state.key.arn, keyPrefix: backend.keyPrefix, region: backend.region },
      stacks: props.stacks,
      productionEnvironments: production,
      clusterStacks: clusterStackParts(config.clusters),
      nonProductionEnvironments: environmentsWhere(config.environments, (stage) => stage.ciIdentity === "deploy"),
    });

    const repositoryVariables = {
      AWS_PLAN_ROLE_ARN: this.roles.arn("plan"),
      AWS_REVIEW_ROLE_ARN: this.roles.arn("review"),
      AWS_DEPLOY_ROLE_ARN: this.roles.arn("deploy"),
      AWS_REGION: aws.region,
    };
    const productionVariables = { AWS_PRODUCTION_ROLE_ARN: this.roles.arn("production") };
    githubVariableOutputs(this, ci.repository, repositoryVariables, productionVariables);
    new TerraformOutput(this, "state_bucket", { value: this.state.bucket.bucket });
  }
}
