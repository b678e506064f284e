import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagramBlock, embedDiagram, nodeId, renderDiagram, resourceCounts } from "../tools/diagram";
import { tsxScript } from "./support/environment";
import { synthesize, type Synthesized } from "./support/synth";

describe("architecture diagram of the synthesized program", () => {
  let synth: Synthesized;
  let diagram: string;
  beforeAll(() => {
    synth = synthesize();
    diagram = renderDiagram(synth.outdir);
  });
  afterAll(() => synth?.cleanup());

  const edges = () => diagram.split("\n").filter((line) => line.includes(" --> ")).map((line) => line.trim());

  it("is the one README and docs/architecture.md show (run `npm run diagram` after changing stacks)", () => {
    for (const file of ["README.md", "docs/architecture.md"]) {
      const document = readFileSync(path.resolve(__dirname, "..", file), "utf8");
      expect({ file, current: embedDiagram(document, diagram) === document }).toEqual({ file, current: true });
    }
  });

  it("is a Mermaid flowchart", () => {
    expect(diagram.split("\n")[0]).toBe("flowchart LR");
  });

  it("draws an arrow for each dependency in the manifest and no other", () => {
    const expected = Object.entries(synth.manifest.stacks).flatMap(([id, entry]) => entry.dependencies.map((dependency) => `${nodeId(dependency)} --> ${nodeId(id)}`));
    expect(expected.length).toBeGreaterThan(0);
    expect(edges().sort()).toEqual(expected.sort());
  });

  it("has one node per stack listing each resource type it holds with its count", () => {
    for (const id of Object.keys(synth.manifest.stacks)) {
      const node = diagram.split("\n").find((line) => line.trim().startsWith(`${nodeId(id)}["`));
      expect(node).toBeDefined();
      const counts = resourceCounts(synth.stack(id));
      expect(counts.length).toBeGreaterThan(0);
      for (const [type, n] of counts) expect(node).toContain(`<br/>${type} ×${n}`);
    }
  });

  it("groups the stacks of each cloud in a subgraph", () => {
    const clouds = [...new Set(Object.keys(synth.manifest.stacks).map((id) => id.split("-")[0]))].sort();
    const subgraphs = diagram.split("\n").filter((line) => line.trim().startsWith("subgraph ")).map((line) => line.trim().split(/[ [\]"]+/)[1]);
    expect(subgraphs.sort()).toEqual(clouds);
  });
});

describe("embedding the diagram", () => {
  it("replaces only what lies between the markers", () => {
    const document = `# Title\n\n${diagramBlock("flowchart LR\n  a --> b")}\n\nAfter.\n`;
    expect(embedDiagram(document, "flowchart LR\n  c --> d")).toBe(`# Title\n\n${diagramBlock("flowchart LR\n  c --> d")}\n\nAfter.\n`);
  });

  it("leaves a document without markers unchanged", () => {
    expect(embedDiagram("# Title\n", "flowchart LR")).toBe("# Title\n");
  });
});

describe("npm run diagram on a team's own program", () => {
  it("prints the diagram of --outdir and leaves README.md and docs/architecture.md as the example draws them", () => {
    const outdir = mkdtempSync(path.join(tmpdir(), "own-program-"));
    try {
      // A program of one stack, as a team's config would synthesize it.
      mkdirSync(path.join(outdir, "stacks/aws-platform"), { recursive: true });
      writeFileSync(path.join(outdir, "stacks/aws-platform/cdk.tf.json"), JSON.stringify({ resource: { aws_vpc: { main: {} } } }));
      const manifest = { stacks: { "aws-platform": { dependencies: [], workingDirectory: "stacks/aws-platform", synthesizedStackPath: "stacks/aws-platform/cdk.tf.json" } } };
      writeFileSync(path.join(outdir, "manifest.json"), JSON.stringify(manifest));
      const documents = ["README.md", "docs/architecture.md"].map((file) => readFileSync(path.resolve(__dirname, "..", file), "utf8"));
      const result = spawnSync(process.execPath, tsxScript("scripts/diagram.ts", "--outdir", outdir), { encoding: "utf8" });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('aws_platform["<b>aws-platform</b><br/>aws_vpc ×1"]');
      expect(["README.md", "docs/architecture.md"].map((file) => readFileSync(path.resolve(__dirname, "..", file), "utf8"))).toEqual(documents);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
