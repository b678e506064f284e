import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { protectedTypeNames, protectionReason } from "../tools/destroy-guard";
import { chartCell, codeSpans, releaseRows, tableAfter } from "./support/markdown-tables";
import { synthesize, type Synthesized } from "./support/synth";

const root = path.resolve(__dirname, "..");
const doc = (file: string) => readFileSync(path.join(root, file), "utf8");

/** Whether `file` declares `symbol`: a class, function, constant or type, or a class's method or field (not a call). */
export function declares(file: string, symbol: string): boolean {
  const text = readFileSync(path.join(root, file), "utf8");
  const name = symbol.replace(/[$]/g, "\\$");
  const modifiers = "(?:(?:private|protected|public|readonly|static|async|get)\\s+)*";
  return [
    `(?:class|function|const|let|interface|type|enum)\\s+${name}\\b`,
    `^\\s+${modifiers}${name}\\s*(?:<[^>]*>)?\\([^;]*\\)\\s*(?::[^;=]*)?\\{\\s*$`,
    `^\\s+${modifiers}${name}\\??:`,
  ].some((pattern) => new RegExp(pattern, "m").test(text));
}

/**
 * The places a "where" cell names: each path, with the symbols written after
 * it (`a.ts` `A`, `B`, `b.ts` `C` → a.ts: A, B; b.ts: C).
 */
export function placesOf(cell: string): { file: string; symbols: string[] }[] {
  const places: { file: string; symbols: string[] }[] = [];
  for (const span of codeSpans(cell)) {
    if (span.includes("/") || /\.\w+$/.test(span)) places.push({ file: span, symbols: [] });
    else if (places.length > 0) places[places.length - 1].symbols.push(span);
    else throw new Error(`"${span}" names no file before it`);
  }
  return places;
}

describe("the code map in docs/architecture.md", () => {
  const architecture = doc("docs/architecture.md");
  const map = tableAfter(architecture, "## Where is X");

  it("answers the questions a newcomer asks first", () => {
    const questions = map.map(([what]) => what);
    for (const topic of ["cluster", "backup plan", "NodePool", "log bucket", "production alert route", "Kourier certificate", "destroy guard", "config rule"]) {
      expect(questions.some((question) => question.includes(topic)), topic).toBe(true);
    }
  });

  it.each(map.map(([what, where]) => [what, where]))("%s: every file and symbol it names exists", (_what, where) => {
    const places = placesOf(where);
    expect(places.length).toBeGreaterThan(0);
    for (const { file, symbols } of places) {
      expect(existsSync(path.join(root, file)), file).toBe(true);
      for (const symbol of symbols) expect(declares(file, symbol), `${file} declares ${symbol}`).toBe(true);
    }
  });

  it("names every folder of the layers table", () => {
    for (const [folders] of tableAfter(architecture, "## The code, by layer")) {
      for (const folder of codeSpans(folders)) expect(existsSync(path.join(root, folder)), folder).toBe(true);
    }
  });

  it("catches a symbol that is gone", () => {
    expect(declares("constructs/aws/eks-cluster.ts", "AwsEksCluster")).toBe(true);
    expect(declares("constructs/aws/eks-cluster.ts", "EksClusterThatIsNot")).toBe(false);
    // Called there, declared elsewhere.
    expect(declares("stacks/app.ts", "buildPlatform")).toBe(true);
    expect(declares("main.ts", "buildPlatform")).toBe(false);
    expect(placesOf("`a/b.ts` `A`, `B`, `c/d.ts` `C`")).toEqual([{ file: "a/b.ts", symbols: ["A", "B"] }, { file: "c/d.ts", symbols: ["C"] }]);
  });
});

describe("the glossary's words in the code", () => {
  /** Other words for what the glossary names once: the log store and the uptime checks. */
  const SYNONYMS = /log-?storage|log-?bucket|external-?monitoring/i;
  const sources = (dir: string): string[] =>
    readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? sources(`${dir}/${entry.name}`) : entry.name.endsWith(".ts") ? [`${dir}/${entry.name}`] : [],
    );
  const files = [...sources("constructs"), ...sources("stacks")];

  it("names no file of constructs/ or stacks/ with another word for them", () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((file) => SYNONYMS.test(path.basename(file)))).toEqual([]);
  });

  it("declares no class, interface or type with another word for them", () => {
    const declared = files.flatMap((file) => [...readFileSync(path.join(root, file), "utf8").matchAll(/\b(?:class|interface|type)\s+(\w+)/g)].map((match) => `${file}: ${match[1]}`));
    expect(declared.length).toBeGreaterThan(100);
    expect(declared.filter((name) => SYNONYMS.test(name.split(": ")[1]))).toEqual([]);
  });
});

describe("the add-ons table in docs/addons.md", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });
  const documented = () => releaseRows(tableAfter(doc("docs/addons.md"), "chart (pinned in"));
  const synthesized = () => {
    const releases = new Map<string, any>();
    for (const stack of ["aws-addons", "azure-addons"]) {
      for (const release of Object.values(synth.stack(stack).resource?.helm_release ?? {}) as any[]) releases.set(release.name, release);
    }
    return releases;
  };

  it("lists every release the add-ons stacks install, and only those", () => {
    expect([...documented().keys()].sort()).toEqual([...synthesized().keys()].sort());
  });

  it("gives each release its pinned chart, version and namespace", () => {
    const rows = documented();
    for (const [name, release] of synthesized()) {
      expect({ name, chart: rows.get(name)?.chart, namespace: rows.get(name)?.namespace }).toEqual({ name, chart: chartCell(release), namespace: release.namespace });
    }
  });
});

describe("the destroy guard's table in docs/workflows.md", () => {
  const rows = tableAfter(doc("docs/workflows.md"), "| protected | types |");
  const documented = rows.flatMap(([, types]) => codeSpans(types));

  it("lists exactly the types the guard protects", () => {
    expect([...new Set(documented)].sort()).toEqual(protectedTypeNames());
  });

  it("names only types the guard refuses to delete", () => {
    for (const type of documented) expect(protectionReason(type.replace(/\*$/, "example")), type).toBeDefined();
  });
});
