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
