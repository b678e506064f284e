import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import type { PolicyStatement } from "./iam";

/** Statements that let a principal pull (and list tags, for image automation) from the given repositories. */
export function ecrPullStatements(repositoryArns: readonly string[]): PolicyStatement[] {
  return [
    { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    {
      Effect: "Allow",
      Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages", "ecr:ListImages"],
      Resource: [...repositoryArns],
    },
  ];
}

export interface EcrRegistryProps {
  /** Repository path prefix, usually the project name. */
  readonly prefix: string;
  readonly applications: string[];
  readonly kmsKeyArn: string;
  readonly keepLastImages: number;
  readonly untaggedExpiryDays: number;
}

/** An application's repository name: `<prefix>/<app>`. */
export const ecrRepositoryName = (prefix: string, app: string): string => `${prefix}/${app}`;

/** One private ECR repository per application: immutable tags, scanned, KMS-encrypted. */
export class EcrRegistry extends Construct {
  readonly repositories: Record<string, EcrRepository> = {};

  constructor(scope: Construct, id: string, props: EcrRegistryProps) {
    super(scope, id);
    for (const app of props.applications) {
      const repository = new EcrRepository(this, app, {
        name: ecrRepositoryName(props.prefix, app),
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: [{ encryptionType: "KMS", kmsKey: props.kmsKeyArn }],
        // Refuse to delete a repository that still holds images.
        forceDelete: false,
      });
      new EcrLifecyclePolicy(this, `${app}-lifecycle`, {
        repository: repository.name,
        policy: Fn.jsonencode({
          rules: [
            {
              rulePriority: 1,
              description: `Expire untagged images after ${props.untaggedExpiryDays} days`,
              selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: props.untaggedExpiryDays },
              action: { type: "expire" },
            },
            {
              rulePriority: 2,
              description: `Keep the last ${props.keepLastImages} tagged images`,
              selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: props.keepLastImages },
              action: { type: "expire" },
            },
          ],
        }),
      });
      this.repositories[app] = repository;
    }
  }

  /** Statements that let a principal pull (and list tags, for image automation) from these repositories. */
  pullStatements(): PolicyStatement[] {
    return ecrPullStatements(Object.values(this.repositories).map((repository) => repository.arn));
  }

  get repositoryArns(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.repositories).map(([app, repository]) => [app, repository.arn]));
  }

  /** `<account>.dkr.ecr.<region>.amazonaws.com`, from the first repository's URL. */
  get loginServer(): string {
    const first = Object.values(this.repositories)[0];
    return Fn.element(Fn.split("/", first.repositoryUrl), 0);
  }

  get repositoryUrls(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.repositories).map(([app, repository]) => [app, repository.repositoryUrl]));
  }
}
