import { appendFileSync } from "node:fs";

/** Appends `name=value` lines to the step's outputs (`$GITHUB_OUTPUT`), for a script run with `--github-output`. */
export function writeGithubOutput(lines: readonly string[]): void {
  const target = process.env.GITHUB_OUTPUT;
  if (!target) throw new Error("--github-output given but GITHUB_OUTPUT is not set");
  appendFileSync(target, `${lines.join("\n")}\n`);
}
