import type { PolicyStatement } from "./iam";

/**
 * The EventBridge event pattern of a successful image push to any of the
 * given ECR repositories (by repository name, `<prefix>/<app>`): the events
 * ECR sends as `ECR Image Action`. A failed push, a delete, or a push to
 * another repository does not match.
 */
export function ecrPushEventPattern(repositoryNames: readonly string[]): Record<string, unknown> {
  if (repositoryNames.length === 0) throw new Error("an ECR push event pattern needs at least one repository name");
  return {
    source: ["aws.ecr"],
    "detail-type": ["ECR Image Action"],
    detail: { "action-type": ["PUSH"], result: ["SUCCESS"], "repository-name": [...repositoryNames] },
  };
}

/** What the role an EventBridge rule's target assumes needs to call one API destination. */
export function invokeApiDestinationStatements(apiDestinationArn: string): PolicyStatement[] {
  return [{ Effect: "Allow", Action: "events:InvokeApiDestination", Resource: [apiDestinationArn] }];
}
