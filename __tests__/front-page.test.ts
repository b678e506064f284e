import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { satisfies } from "semver";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT, STAGES } from "../config";
import { gitopsSchema } from "../config/environments";
import { AZURE_REQUIRED_TERRAFORM } from "../constructs/azure/stack-setup";

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), "utf8");
const documents = ["README.md", ...readdirSync(path.join(PROJECT_ROOT, "docs")).filter((file) => file.endsWith(".md")).map((file) => `docs/${file}`)];

describe("the README's first deploy", () => {
  it("creates the Git credentials secret every environment's Flux source reads, in each stage's namespace", () => {
    const secretName = gitopsSchema.parse({ url: "https://example.com/x.git" }).secretName;
    const readme = read("README.md");
    const firstDeploy = readme.slice(readme.indexOf("## First deploy"), readme.indexOf("## Documentation"));
    expect(firstDeploy).toContain(`flux create secret git ${secretName} --namespace="$env"`);
    expect(firstDeploy).toContain(`for env in ${STAGES.join(" ")}; do`);
  });

  it("says that CDK for Terraform is deprecated, since when, and what that means for the kit", () => {
    const readme = read("README.md");
    expect(readme).toContain("## CDK for Terraform is deprecated: what that means here");
    expect(readme).toContain("10 December 2025");
    expect(readme).toContain("CDK Terrain");
  });
});

describe("the documented prerequisites", () => {
  const minimum = /^>= ?(\d+\.\d+)/.exec(AZURE_REQUIRED_TERRAFORM)![1];

  it(`name one minimum Terraform, ${minimum}, the version the synthesized stacks require`, () => {
    const stated = documents.flatMap((file) =>
      [...read(file).matchAll(/Terraform (?:≥ ?|>= ?)?(\d+\.\d+)(?:\.\d+)? or later|Terraform (?:≥|>=) ?(\d+\.\d+)/g)].map((match) => `${file}: ${match[1] ?? match[2]}`),
    );
    expect(stated.length).toBeGreaterThan(0);
    expect(stated.filter((line) => !line.endsWith(`: ${minimum}`))).toEqual([]);
    for (const workflow of [".github/workflows/plan.yml", ".github/actions/terraform-stack/action.yml"]) {
      for (const match of read(workflow).matchAll(/terraform_version: (\d+\.\d+)/g)) expect({ workflow, version: match[1] }).toEqual({ workflow, version: minimum });
    }
  });

  it("hold for every package npm ci installs: none asks for a Node newer than the kit's minimum", () => {
    const engines = JSON.parse(read("package.json")).engines.node as string;
    const oldest = /^>=\s*(\d+)/.exec(engines)![1];
    const lock = JSON.parse(read("package-lock.json")).packages as Record<string, { engines?: { node?: string }; optional?: boolean }>;
    const newer = Object.entries(lock)
      // npm skips an optional platform package whose engines do not match, without a warning.
      .filter(([, entry]) => !entry.optional && entry.engines?.node && !satisfies(`${oldest}.19.0`, entry.engines.node))
      .map(([name, entry]) => `${name}: ${entry.engines!.node}`);
    expect(newer).toEqual([]);
    expect(read("README.md")).toContain(`Node.js ${oldest} or later`);
  });
});
