import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { diagramBlock, embedDiagram, renderDiagram } from "../tools/diagram";

/**
 * Writes docs/architecture.md from the synthesized program (cdktf.out, or
 * --outdir) and refreshes the diagram README.md embeds between its markers.
 * `--print` writes the Mermaid source to stdout instead.
 */
const args = process.argv.slice(2);
const outdirIndex = args.indexOf("--outdir");
const outdir = outdirIndex >= 0 ? args[outdirIndex + 1] : "cdktf.out";

try {
  const diagram = renderDiagram(outdir);
  if (args.includes("--print")) {
    console.log(diagram);
  } else {
    mkdirSync("docs", { recursive: true });
    writeFileSync(
      "docs/architecture.md",
      [
        "# Architecture",
        "",
        "The stacks `npm run synth` produces for the current config, the resource types each holds, and an arrow",
        "from each stack to the stacks that depend on it: cdktf and the deploy workflow apply them in that order.",
        "Regenerate with `npm run diagram`.",
        "",
        diagramBlock(diagram),
        "",
      ].join("\n"),
    );
    console.log("wrote docs/architecture.md");
    if (existsSync("README.md")) {
      const readme = readFileSync("README.md", "utf8");
      const updated = embedDiagram(readme, diagram);
      if (updated !== readme) {
        writeFileSync("README.md", updated);
        console.log("updated the diagram in README.md");
      }
    }
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
