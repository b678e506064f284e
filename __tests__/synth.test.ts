import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG_PATH, loadConfig } from "../config";
import { synthesize, type Manifest } from "./support/synth";

const ROOT = path.resolve(__dirname, "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (["node_modules", "cdktf.out", ".git", "__snapshots__"].includes(entry)) return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return entry.endsWith(".ts") ? [full] : [];
  });
}

describe("npm run synth", () => {
  let manifest: Manifest;

  beforeAll(() => {
    // The global setup ran `node scripts/synth.cjs` on the example config; this is its output.
    manifest = synthesize().manifest;
  });

  it("writes the platform and one data stack per environment for every configured cloud", () => {
    const config = loadConfig(EXAMPLE_CONFIG_PATH);
    const ids = Object.keys(manifest.stacks);
    for (const cloud of Object.keys(config.clouds)) {
      expect(ids).toContain(`${cloud}-platform`);
      for (const env of config.environments) expect(ids).toContain(`${cloud}-${env.name}-data`);
    }
  });

  it("names every stack <cloud>-<part>", () => {
    for (const id of Object.keys(manifest.stacks)) expect(id).toMatch(/^(aws|azure)-[a-z0-9-]+$/);
  });

  it("orders data stacks after their platform", () => {
    expect(manifest.stacks["aws-production-data"].dependencies).toContain("aws-platform");
  });
});

describe("provider imports", () => {
  it("import provider classes by deep path, never through a provider package's index", () => {
    const barrel = /from\s+["']@cdktf\/provider-[a-z]+["']|require\(["']@cdktf\/provider-[a-z]+["']\)/;
    const offenders = sourceFiles(ROOT).filter((file) => barrel.test(readFileSync(file, "utf8")));
    expect(offenders.map((file) => path.relative(ROOT, file))).toEqual([]);
  });
});
