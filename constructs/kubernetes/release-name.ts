import type { IConstruct } from "constructs";

/** Helm stores a release in a Secret named after it, and refuses names longer than this. */
export const HELM_RELEASE_NAME_LIMIT = 53;

/** Fails at synth, naming the construct, when Helm would refuse the release name at apply. */
export function checkReleaseName(scope: IConstruct, name: string): void {
  if (name.length > HELM_RELEASE_NAME_LIMIT) {
    throw new Error(`${scope.node.path}: Helm release name '${name}' is ${name.length} characters; the limit is ${HELM_RELEASE_NAME_LIMIT}`);
  }
}
