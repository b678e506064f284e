import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import { EXAMPLE_CONFIG_PATH, loadConfig, PROJECT_ROOT } from "../config";
import { buildPlatform } from "../stacks/app";
import { diagramBlock, embedDiagram, renderDiagram } from "../tools/diagram";

/**
 * `npm run diagram`: the architecture diagram of the example config, written
 * to docs/architecture.md and into README.md between its markers. The
 * documents describe the kit, so they are drawn from the example, never from
 * the config a team deploys.
 *
 * `npm run diagram -- --outdir cdktf.out` draws the program last synthesized
 * there (your own config) and prints the Mermaid source; it writes no file.
 */
const args = process.argv.slice(2);
const outdirIndex = args.indexOf("--outdir");

try {
  if (outdirIndex >= 0) {
    console.log(renderDiagram(args[outdirIndex + 1]));
  } else {
    const outdir = mkdtempSync(path.join(tmpdir(), "diagram-"));
    try {
      const app = new App({ outdir });
      buildPlatform(app, loadConfig(EXAMPLE_CONFIG_PATH));
      app.synth();
      writeDocs(renderDiagram(outdir));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

function writeDocs(diagram: string): void {
  writeFileSync(
    path.join(PROJECT_ROOT, "docs/architecture.md"),
    [
      "# Architecture",
      "",
      "The stacks `npm run synth` produces for the example config, the resource types each holds, and an arrow",
      "from each stack to the stacks that depend on it: cdktf and the deploy workflow apply them in that order.",
      "Regenerate with `npm run diagram`; draw your own config's with `npm run synth && npm run diagram -- --outdir cdktf.out`.",
      "",
      diagramBlock(diagram),
      "",
    ].join("\n"),
  );
  console.log("wrote docs/architecture.md");
  const readmeFile = path.join(PROJECT_ROOT, "README.md");
  const readme = readFileSync(readmeFile, "utf8");
  const updated = embedDiagram(readme, diagram);
  if (updated !== readme) {
    writeFileSync(readmeFile, updated);
    console.log("updated the diagram in README.md");
  }
}
