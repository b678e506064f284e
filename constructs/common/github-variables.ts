import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { PRODUCTION_ENVIRONMENT } from "../../config/ci";

/**
 * The GitHub CLI commands that set a bootstrap's outputs as the workflows'
 * variables: repository variables, and those of the `production`
 * environment, which a job sees only once a reviewer has approved it.
 * Printed, not applied: setting them through Terraform would need a GitHub
 * token with administration rights on the repository, on the workstation
 * that bootstraps the clouds (docs/bootstrap.md).
 */
export function githubVariableCommands(
  repository: string,
  repositoryVariables: Record<string, string>,
  productionVariables: Record<string, string>,
): string {
  const line = (name: string, value: string, environment?: string) =>
    `gh variable set ${name} --repo ${repository}${environment ? ` --env ${environment}` : ""} --body '${value}'`;
  return [
    ...Object.entries(repositoryVariables).map(([name, value]) => line(name, value)),
    ...Object.entries(productionVariables).map(([name, value]) => line(name, value, PRODUCTION_ENVIRONMENT)),
    "",
  ].join("\n");
}

/** A bootstrap's outputs: the repository's variables, the production environment's, and the commands setting both. */
export function githubVariableOutputs(scope: Construct, repository: string, repositoryVariables: Record<string, string>, productionVariables: Record<string, string>): void {
  new TerraformOutput(scope, "github_repository_variables", {
    value: repositoryVariables,
    description: `Repository variables of ${repository} (Settings, Secrets and variables, Actions, Variables)`,
  });
  new TerraformOutput(scope, "github_production_variables", {
    value: productionVariables,
    description: `Variables of the ${PRODUCTION_ENVIRONMENT} environment of ${repository} (Settings, Environments, ${PRODUCTION_ENVIRONMENT})`,
  });
  new TerraformOutput(scope, "github_variable_commands", {
    value: githubVariableCommands(repository, repositoryVariables, productionVariables),
    description: "The same variables as GitHub CLI commands",
  });
}
