import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { codeSpans, tableAfter } from "./support/markdown-tables";

/**
 * scripts/ holds what npm, cdktf and the workflows run; tools/ holds the logic
 * they call, which the tests import (docs/architecture.md, "Scripts and tools").
 */
const root = path.resolve(__dirname, "..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const filesIn = (dir: string): string[] =>
  readdirSync(path.join(root, dir)).flatMap((name) => {
    const file = `${dir}/${name}`;
    return statSync(path.join(root, file)).isDirectory() ? filesIn(file) : [file];
  });

/** What breaks the rule for a command-line entry point in scripts/: logic of its own others could import, or none from tools/. */
export function entryPointProblems(source: string): string[] {
  const problems: string[] = [];
  const exported = [...source.matchAll(/^export\s+(?:default\s+)?(?:async\s+)?(?:function|const|let|class|interface|type|enum|\{)\s*(\w*)/gm)].map((match) => match[1] || "{...}");
  if (exported.length > 0) problems.push(`exports ${exported.join(", ")}: logic others import belongs in tools/`);
  if (!/from\s+["']\.\.\/tools\//.test(source)) problems.push("imports nothing from tools/");
  return problems;
}

/** What makes a file in tools/ a command line of its own. */
export function runsAsCommand(source: string): boolean {
  return /\bprocess\.(argv|exit)\b|\brequire\.main\b/.test(source);
}

/** The project files every command starts from: npm's scripts, cdktf's app, the CI entry point and the workflows. */
function commandLines(): string[] {
  const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
  const github = filesIn(".github").filter((file) => /\.ya?ml$/.test(file));
  return [...Object.values(pkg.scripts), (JSON.parse(read("cdktf.json")) as { app: string }).app, read(".ci/run"), ...github.map(read)];
}

describe("scripts/ and tools/", () => {
  const scripts = filesIn("scripts").filter((file) => file.endsWith(".ts"));

  it.each(scripts)("%s is an entry point: it exports nothing and calls into tools/", (file) => {
    expect(entryPointProblems(read(file))).toEqual([]);
  });

  it.each(filesIn("tools").filter((file) => /\.(ts|cjs)$/.test(file)))("%s is not run as a command of its own", (file) => {
    expect(runsAsCommand(read(file))).toBe(false);
  });

  it("has npm, cdktf and the workflows run files in scripts/ only", () => {
    const run = commandLines().flatMap((text) => [...text.matchAll(/(?:\.\/)?\b(scripts|tools)\/[\w./-]+\.(?:ts|cjs)\b/g)].map((match) => match[0].replace(/^\.\//, "")));
    expect(run.length).toBeGreaterThan(10);
    expect(run.filter((file) => !file.startsWith("scripts/"))).toEqual([]);
    for (const file of run) expect(statSync(path.join(root, file)).isFile(), file).toBe(true);
  });

  it("runs every file in scripts/ from somewhere, or says how to run it", () => {
    const lines = commandLines().join("\n");
    for (const file of filesIn("scripts").filter((name) => /\.(ts|cjs)$/.test(name))) {
      expect(lines.includes(file) || read(file).includes(`tsx ${file}`), file).toBe(true);
    }
  });

  it("lists every entry point in docs/architecture.md, with logic that exists", () => {
    const rows = tableAfter(read("docs/architecture.md"), "| entry point | run by | logic in |");
    const listed = rows.flatMap(([entries]) => codeSpans(entries));
    expect(listed.sort()).toEqual(filesIn("scripts").filter((file) => /\.(ts|cjs)$/.test(file)).sort());
    for (const logic of rows.flatMap(([, , logic]) => codeSpans(logic))) expect(existsSync(path.join(root, logic)), logic).toBe(true);
  });

  it("catches logic in an entry point and a command in tools/", () => {
    expect(entryPointProblems('import { a } from "../tools/a";\nexport const SOURCES = {};\n')).toEqual(["exports SOURCES: logic others import belongs in tools/"]);
    expect(entryPointProblems('import { a } from "../config";\n')).toEqual(["imports nothing from tools/"]);
    expect(runsAsCommand("if (require.main === module) main();")).toBe(true);
  });
});
