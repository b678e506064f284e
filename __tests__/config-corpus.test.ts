import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { PROJECT_ROOT } from "../config";
import { outcomeOf } from "../tools/config-corpus";
import { BAD_CONFIGS, type CorpusCase } from "./support/bad-configs";
import { configWith } from "./support/synth";

describe("the corpus of wrong and edge-case configurations", () => {
  it("holds well over a hundred cases, several for each class of the issue", () => {
    expect(BAD_CONFIGS.length).toBeGreaterThan(150);
    const perPoint = new Map<number, number>();
    for (const testCase of BAD_CONFIGS) perPoint.set(testCase.point, (perPoint.get(testCase.point) ?? 0) + 1);
    const thin = Array.from({ length: 10 }, (_, i) => i + 1).filter((point) => (perPoint.get(point) ?? 0) < 3);
    expect(thin).toEqual([]);
  });

  // One test per class of the issue (0: rules that held before), listing each case that fares otherwise.
  const points = [...new Set(BAD_CONFIGS.map((testCase) => testCase.point))].sort((a, b) => a - b);
  it.each(points)("class %i: every case is rejected well, warned about or, when valid, accepted", (point) => {
    const otherwise = BAD_CONFIGS.filter((testCase) => testCase.point === point)
      .map((testCase: CorpusCase) => ({ name: testCase.name, ...outcomeOf(testCase) }))
      .filter(({ outcome }) => outcome !== "well");
    expect(otherwise).toEqual([]);
  });
});

/** One case of four classes whose config is rejected, through `npm run synth` itself (each run starts Node). */
const SAMPLE = [1, 2, 5, 10].map((point) => BAD_CONFIGS.find((testCase) => testCase.point === point && testCase.expect !== "accept" && testCase.expect.severity !== "warning")!);

describe("a sample of the corpus through npm run synth", () => {
  let workdir: string;
  beforeAll(() => {
    workdir = mkdtempSync(path.join(tmpdir(), "config-corpus-"));
  });
  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  it.each(SAMPLE.map((testCase) => [testCase.name, testCase] as const))("%s: one line naming field and value, exit 1, nothing written", (_name, testCase) => {
    const file = path.join(workdir, "bad.yaml");
    writeFileSync(file, stringify(configWith(testCase.change)));
    const result = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "scripts/synth.cjs")], {
      cwd: workdir,
      env: { ...process.env, PLATFORM_CONFIG: file },
      encoding: "utf8",
    });
    const expected = testCase.expect as Exclude<CorpusCase["expect"], "accept">;
    const lines = result.stderr.trim().split("\n");
    expect(result.status).toBe(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`Invalid configuration in ${file}:`);
    expect(lines[1]).toMatch(new RegExp(`^  - ${expected.path.replace(/[.[\]]/g, "\\$&")}: .+ is not allowed: `));
    expect(lines[1]).toMatch(expected.message);
    expect(existsSync(path.join(workdir, "cdktf.out"))).toBe(false);
  });
});
