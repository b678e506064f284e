import { readFileSync } from "node:fs";
import * as path from "node:path";
import { deployOrder, readManifest } from "./stack-order";

/** Mermaid node id of a stack: ids may not contain '-'. */
export const nodeId = (stack: string): string => stack.replace(/[^A-Za-z0-9_]/g, "_");

/** Managed resources of a synthesized stack by type, most numerous first. */
export function resourceCounts(stackJson: { resource?: Record<string, Record<string, unknown>> }): [string, number][] {
  return Object.entries(stackJson.resource ?? {})
    .map(([type, resources]) => [type, Object.keys(resources).length] as [string, number])
    .sort(([a, m], [b, n]) => n - m || a.localeCompare(b));
}

/**
 * A Mermaid flowchart of the synthesized program: one node per stack with the
 * resource types it holds, grouped by cloud, and an arrow from each stack to
 * the stacks that depend on it (the order cdktf deploys them in).
 */
export function renderDiagram(outdir: string): string {
  const manifest = readManifest(outdir);
  const order = deployOrder(manifest);
  const clouds = [...new Set(order.map((id) => id.split("-")[0]))];
  const lines = ["flowchart LR"];
  for (const cloud of clouds) {
    lines.push(`  subgraph ${nodeId(cloud)}["${cloud}"]`);
    for (const id of order.filter((stack) => stack.split("-")[0] === cloud)) {
      const stackJson = JSON.parse(readFileSync(path.join(outdir, manifest.stacks[id].synthesizedStackPath), "utf8"));
      const counts = resourceCounts(stackJson).map(([type, n]) => `${type} ×${n}`);
      lines.push(`    ${nodeId(id)}["<b>${id}</b><br/>${counts.join("<br/>")}"]`);
    }
    lines.push("  end");
  }
  for (const id of order) {
    for (const dependency of [...manifest.stacks[id].dependencies].sort()) lines.push(`  ${nodeId(dependency)} --> ${nodeId(id)}`);
  }
  return lines.join("\n");
}

export const DIAGRAM_START = "<!-- architecture-diagram:start -->";
export const DIAGRAM_END = "<!-- architecture-diagram:end -->";

/** The diagram as a fenced Mermaid block between the markers a document embeds it with. */
export function diagramBlock(diagram: string): string {
  return `${DIAGRAM_START}\n\`\`\`mermaid\n${diagram}\n\`\`\`\n${DIAGRAM_END}`;
}

/** Replaces the block between the markers; the document is unchanged when it has none. */
export function embedDiagram(document: string, diagram: string): string {
  const start = document.indexOf(DIAGRAM_START);
  const end = document.indexOf(DIAGRAM_END);
  if (start < 0 || end < start) return document;
  return document.slice(0, start) + diagramBlock(diagram) + document.slice(end + DIAGRAM_END.length);
}
