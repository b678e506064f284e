import { LocalBackend, type TerraformStack } from "cdktf";

/**
 * State kept beside the project (git-ignored), one file per stack. The path is
 * relative to the stack's working directory, cdktf.out/stacks/<stack>, so the
 * synthesized JSON is the same on every machine.
 */
export function useLocalState(stack: TerraformStack, stackId: string): void {
  new LocalBackend(stack, { path: `../../../terraform.${stackId}.tfstate` });
}
