import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, EXAMPLE_CONFIG_PATH, loadConfig, MAX_CONFIG_BYTES } from "../config";

/** The problems loading a file gives, as the lines a user reads. */
function problemsOf(file: string): string[] {
  try {
    loadConfig(file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message.split("\n").slice(1);
  }
  return [];
}

describe("loading a YAML config", () => {
  let dir: string;
  const example = readFileSync(EXAMPLE_CONFIG_PATH, "utf8");
  const write = (text: string) => {
    const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return file;
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "config-load-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes unquoted numbers as the text written: 1.30 stays 1.30, 16 becomes \"16\"", () => {
    const text = example.replace(/version: "1\.33"/g, "version: 1.30").replace("storageGb: 20\n", "storageGb: 20\n      engineVersion: 16\n").replace("branch: main", "branch: 2026");
    const config = loadConfig(write(text));
    expect(config.clouds.aws?.cluster.version).toBe("1.30");
    expect(config.clouds.azure?.cluster.version).toBe("1.30");
    expect(config.environments[0].database.engineVersion).toBe("16");
    expect(config.gitops.branch).toBe("2026");
  });

  it("says to quote a number that is not the text meant", () => {
    const text = example.replace('version: "1.33"', "version: 1.3");
    expect(problemsOf(write(text))).toEqual([`  - clouds.aws.cluster.version: 1.3 is not allowed: is the number 1.3, not the text "1.30": quote it: "1.30"`]);
  });

  it("refuses a key written twice, in one line", () => {
    const text = example.replace("project: acme\n", "project: acme\nproject: shop\n");
    expect(problemsOf(write(text))).toEqual([`  - (file): the key "project" appears twice in the top level; YAML keeps only one of them`]);
  });

  it("checks the keys of a large mapping in one pass and reports what is wrong with them", () => {
    const tags = Array.from({ length: 5000 }, (_, i) => `  tag-${i}: value`).join("\n");
    const text = example.replace("tags:\n  cost-center: platform\n", `tags:\n${tags}\n  tag-7: again\n`);
    expect(problemsOf(write(text))).toEqual([`  - (file): the key "tag-7" appears twice in tags; YAML keeps only one of them`]);
    const unique = example.replace("tags:\n  cost-center: platform\n", `tags:\n${tags}\n`);
    expect(problemsOf(write(unique))).toEqual([`  - tags: 5000 is not allowed: 5000 tags; a resource carries at most 50 and the program sets up to 7, so at most 43`]);
  });

  it("refuses a file larger than the bound before parsing it", () => {
    const file = write(`${example}\n# ${"x".repeat(MAX_CONFIG_BYTES)}\n`);
    expect(problemsOf(file)).toEqual([`  - (file): is ${statSync(file).size} bytes; a platform config is at most 16 MiB (${MAX_CONFIG_BYTES} bytes)`]);
  });
});
