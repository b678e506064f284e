import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Lazy, TerraformResource, type TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { CI_IDENTITIES, ciIdentityName, ciSubjects, type CiConfig, type CiIdentityKind } from "../../config/ci";
import { ciStateAccess, stateKey, type CiStateAccess } from "../common/ci-state";
import {
  COMPANION_ACTIONS,
  DEPLOY_EC2_ACTIONS,
  DEPLOY_IAM_ROLE_ACTIONS,
  DEPLOY_IAM_TAG_ACTIONS,
  DEPLOY_PASS_ROLE_SERVICES,
  DOCTOR_READ_ACTIONS,
  readActions,
  SERVICE_OF_TYPE,
  STATE_BUCKET_ADMINISTRATION,
  STATE_KEY_READ,
  STATE_KEY_WRITE,
} from "./ci-permissions";
import { environmentBoundaryArnPattern } from "./environment-boundary";
import { policyDocument, type IamStatement } from "./iam";

/** GitHub's OIDC issuer, without the scheme as IAM's condition keys name it. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
/** The audience `aws-actions/configure-aws-credentials` asks GitHub for. */
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";

/**
 * Seconds a deploy session may last. Terraform cannot renew a session, so it
 * must outlast the longest apply (an EKS upgrade, a Multi-AZ conversion); the
 * deploy workflow asks for this much.
 */
export const DEPLOY_SESSION_SECONDS = 10800;

export interface AwsCiRolesProps {
  readonly project: string;
  readonly ci: CiConfig;
  /** The state bucket, its key and the prefix of every state key. */
  readonly state: { readonly bucketArn: string; readonly keyArn: string; readonly keyPrefix: string; readonly region: string };
  /**
   * The account's GitHub OIDC provider: created here, or the ARN of one the
   * account already has (IAM allows one per issuer).
   */
  readonly oidcProviderArn?: string;
  /** Every stack the workflows plan and apply; read when synthesizing. */
  readonly stacks: () => readonly TerraformStack[];
  /** Names of the environments of stage production. */
  readonly productionEnvironments: readonly string[];
  /** Names of the other environments: the deploy role's. */
  readonly nonProductionEnvironments: readonly string[];
}

/**
 * The GitHub OIDC provider and the four CI roles, each trusting one kind of
 * job of one repository, with the least each needs: plan and review read
 * (state and resources, never a secret or object), deploy writes the
 * non-production stacks and nothing tagged for the platform or production,
 * production writes the production stacks. No role may change the CI roles,
 * the OIDC provider, the state bucket or the state key.
 */
export class AwsCiRoles extends Construct {
  readonly provider?: IamOpenidConnectProvider;
  readonly roles: Record<CiIdentityKind, IamRole>;
  private readonly props: AwsCiRolesProps;
  private readonly providerArn: string;

  constructor(scope: Construct, id: string, props: AwsCiRolesProps) {
    super(scope, id);
    this.props = props;
    if (props.oidcProviderArn === undefined) {
      // IAM trusts GitHub's certificate through its own root CAs; no thumbprint to pin.
      this.provider = new IamOpenidConnectProvider(this, "github", { url: `https://${GITHUB_OIDC_HOST}`, clientIdList: [GITHUB_OIDC_AUDIENCE] });
    }
    this.providerArn = props.oidcProviderArn ?? this.provider!.arn;

    this.roles = Object.fromEntries(
      CI_IDENTITIES.map((kind) => {
        const writes = kind === "deploy" || kind === "production";
        const role = new IamRole(this, kind, {
          name: ciIdentityName(props.project, kind),
          description: `GitHub Actions of ${props.ci.repository}: ${kind} (docs/bootstrap.md)`,
          assumeRolePolicy: policyDocument([this.trustStatement(kind)]),
          maxSessionDuration: writes ? DEPLOY_SESSION_SECONDS : 3600,
        });
        new IamRolePolicy(this, `${kind}-policy`, {
          role: role.id,
          name: ciIdentityName(props.project, kind),
          policy: Lazy.stringValue({ produce: () => policyDocument(this.statements(kind)) }),
        });
        return [kind, role];
      }),
    ) as Record<CiIdentityKind, IamRole>;
  }

  /** Who may assume an identity: GitHub tokens for this repository and this kind of job only. */
  trustStatement(kind: CiIdentityKind): IamStatement {
    return {
      Sid: "GitHubActions",
      Effect: "Allow",
      Principal: { Federated: this.providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
          [`${GITHUB_OIDC_HOST}:sub`]: ciSubjects(this.props.ci, kind),
        },
      },
    };
  }

  /** The state each identity may touch, from the stacks' dependencies. */
  stateAccess(): Record<CiIdentityKind, CiStateAccess> {
    return ciStateAccess(this.props.stacks(), this.props.productionEnvironments);
  }

  /** An identity's permissions. Call once every stack is prepared (while synthesizing). */
  statements(kind: CiIdentityKind): IamStatement[] {
    const access = this.stateAccess()[kind];
    const stacks = this.props.stacks();
    const servicesOf = (ids: readonly string[]): string[] => [
      ...new Set(stacks.filter((stack) => ids.includes(stack.node.id)).flatMap((stack) => resourceTypes(stack).map((type) => serviceOf(type)))),
    ].sort();
    const { bucketArn, keyArn, keyPrefix, region } = this.props.state;
    const objects = (ids: readonly string[], suffix = ""): string[] => ids.map((id) => `${bucketArn}/${stateKey(keyPrefix, id)}${suffix}`);
    const viaS3 = { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } };

    // Readers read every state, also of a stack the bootstrap has not seen yet (a new
    // environment's, planned before the bootstrap is re-applied): the key prefix.
    const readable = access.applies.length === 0 ? `${bucketArn}/${keyPrefix}/*` : objects(access.reads);
    const statements: IamStatement[] = [
      { Sid: "ListStateBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn },
      { Sid: "ReadState", Effect: "Allow", Action: ["s3:GetObject"], Resource: readable },
    ];
    const readServices = access.applies.length === 0 ? servicesOf(stacks.map((stack) => stack.node.id)) : servicesOf(access.applies);
    if (readServices.length > 0) statements.push({ Sid: "RefreshResources", Effect: "Allow", Action: readActions(readServices), Resource: "*" });
    if (access.applies.length === 0) {
      statements.push({ Sid: "DecryptState", Effect: "Allow", Action: STATE_KEY_READ, Resource: keyArn, Condition: viaS3 });
      // The doctor runs after each deploy with the review identity (docs/operations.md).
      if (kind === "review") statements.push({ Sid: "CheckPlatform", Effect: "Allow", Action: [...DOCTOR_READ_ACTIONS], Resource: "*" });
      return statements;
    }

    statements.push(
      { Sid: "WriteStateAndLocks", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: [...objects(access.applies), ...objects(access.applies, ".tflock")] },
      { Sid: "ReleaseLocks", Effect: "Allow", Action: ["s3:DeleteObject"], Resource: objects(access.applies, ".tflock") },
      { Sid: "EncryptState", Effect: "Allow", Action: STATE_KEY_WRITE, Resource: keyArn, Condition: viaS3 },
    );
    const services = servicesOf(access.applies);
    statements.push(...(kind === "deploy" ? this.deployWrites(services) : this.productionWrites(services)));
    statements.push(...this.protections());
    return statements;
  }

  /**
   * The non-production data stacks' services, their own security group and
   * roles, and nothing tagged for the platform or a production environment.
   */
  private deployWrites(services: string[]): IamStatement[] {
    const project = this.props.project;
    const ownRoles = this.props.nonProductionEnvironments.map((env) => `arn:aws:iam::*:role/${project}-${env}-*`);
    const whole = services.filter((service) => service !== "ec2" && service !== "iam");
    const statements: IamStatement[] = [];
    if (whole.length > 0) {
      statements.push({ Sid: "WriteDataServices", Effect: "Allow", Action: [...whole.map((service) => `${service}:*`), ...whole.flatMap((service) => COMPANION_ACTIONS[service] ?? [])], Resource: "*" });
    }
    if (services.includes("ec2")) statements.push({ Sid: "WriteDatabaseSecurityGroups", Effect: "Allow", Action: DEPLOY_EC2_ACTIONS, Resource: "*" });
    if (services.includes("iam") && ownRoles.length > 0) {
      statements.push(
        {
          Sid: "ManageEnvironmentRoles",
          Effect: "Allow",
          Action: DEPLOY_IAM_ROLE_ACTIONS,
          Resource: ownRoles,
          Condition: { ArnLike: { "iam:PermissionsBoundary": environmentBoundaryArnPattern(project) } },
        },
        { Sid: "TagEnvironmentRoles", Effect: "Allow", Action: DEPLOY_IAM_TAG_ACTIONS, Resource: ownRoles },
        { Sid: "PassEnvironmentRoles", Effect: "Allow", Action: ["iam:PassRole"], Resource: ownRoles, Condition: { StringEquals: { "iam:PassedToService": DEPLOY_PASS_ROLE_SERVICES } } },
      );
    }
    statements.push({
      // Where a service evaluates resource tags, nothing of the platform or of production:
      // the security group of a database is created in the platform's VPC, nothing else there.
      Sid: "DenyPlatformAndProduction",
      Effect: "Deny",
      NotAction: ["ec2:CreateSecurityGroup"],
      Resource: "*",
      Condition: { StringEquals: { "aws:ResourceTag/environment": ["platform", ...this.props.productionEnvironments] } },
    });
    return statements;
  }

  /** Every service of the production stacks, IAM included: they build the platform. */
  private productionWrites(services: string[]): IamStatement[] {
    return [
      {
        Sid: "WriteProductionServices",
        Effect: "Allow",
        Action: [...services.map((service) => `${service}:*`), ...services.flatMap((service) => COMPANION_ACTIONS[service] ?? [])],
        Resource: "*",
      },
    ];
  }

  /** What no writer may change: the CI identities, their OIDC provider, the state bucket and its key. */
  private protections(): IamStatement[] {
    const { bucketArn, keyArn } = this.props.state;
    return [
      {
        Sid: "ProtectCiIdentities",
        Effect: "Deny",
        NotAction: ["iam:Get*", "iam:List*"],
        Resource: [`arn:aws:iam::*:role/${this.props.project}-ci-*`, `arn:aws:iam::*:oidc-provider/${GITHUB_OIDC_HOST}`],
      },
      { Sid: "ProtectStateBucket", Effect: "Deny", Action: STATE_BUCKET_ADMINISTRATION, Resource: bucketArn },
      { Sid: "ProtectStateKey", Effect: "Deny", NotAction: [...STATE_KEY_WRITE, "kms:DescribeKey", "kms:Get*", "kms:List*"], Resource: keyArn },
    ];
  }

  /** The ARN of each role, for the repository and environment variables. */
  arn(kind: CiIdentityKind): string {
    return this.roles[kind].arn;
  }
}

/** The AWS resource types a stack manages (data sources are not resources). */
export function resourceTypes(stack: TerraformStack): string[] {
  const types = stack.node
    .findAll()
    .filter((node): node is TerraformResource => TerraformResource.isTerraformResource(node))
    .map((resource) => resource.terraformResourceType)
    .filter((type) => type.startsWith("aws_"));
  return [...new Set(types)].sort();
}

/** The IAM service of a resource type; a type missing from the table fails loudly. */
export function serviceOf(type: string): string {
  const service = SERVICE_OF_TYPE[type];
  if (!service) throw new Error(`${type} has no IAM service in SERVICE_OF_TYPE (constructs/aws/ci-permissions.ts): add it, so that the CI roles may manage it`);
  return service;
}
