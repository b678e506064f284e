import { appendFileSync } from "node:fs";
import { loadConfig, resolveConfigPath } from "../config";
import { checkMatrixSize, ciManifest, deployLayers, deployOrder, localStateStacks, productionEnvironmentNames, readManifest, withoutStacks } from "../tools/stack-order";
import { clusterStackParts } from "../config/clusters";

/**
 * Prints the stacks of the synthesized program for the workflows' matrices:
 * `stacks` in dependency order, and `layer<N>` / `layer<N>_production` for the
 * deploy workflow's layer jobs. With `--github-output` the same lines are
 * appended to $GITHUB_OUTPUT.
 *
 * With `--require-remote-state` it fails when a stack keeps its state in a
 * local file, which a CI runner would lose. `--skip` leaves stacks out of
 * `stacks` (the pull-request plans) only; the deploy layers keep every stack.
 *
 *   tsx scripts/stack-matrix.ts [--outdir cdktf.out] [--layers 5] [--require-remote-state] [--skip 'azure-*-data,...'] [--github-output]
 */
const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};

try {
  const outdir = option("--outdir", "cdktf.out");
  // The bootstrap stacks are deployed from a workstation, never by the workflows.
  const manifest = ciManifest(readManifest(outdir));
  const local = args.includes("--require-remote-state") ? localStateStacks(outdir, manifest) : [];
  if (local.length > 0) {
    throw new Error(
      `${local.join(", ")} keep their state in a local file, which is lost when a CI job ends: ` +
        "set clouds.<cloud>.stateBackend in the config (docs/stacks.md, 'State')",
    );
  }
  const config = loadConfig(resolveConfigPath().path);
  const production = productionEnvironmentNames(config);
  const stacks = withoutStacks(deployOrder(manifest), option("--skip", ""));
  checkMatrixSize("the plan matrix", stacks);
  const lines = [`stacks=${JSON.stringify(stacks)}`];
  deployLayers(manifest, production, Number(option("--layers", "5")), clusterStackParts(config.clusters)).forEach((layer, i) => {
    checkMatrixSize(`layer ${i}`, layer.stacks);
    checkMatrixSize(`layer ${i} (production)`, layer.production);
    lines.push(`layer${i}=${JSON.stringify(layer.stacks)}`, `layer${i}_production=${JSON.stringify(layer.production)}`);
  });
  console.log(lines.join("\n"));
  if (args.includes("--github-output")) {
    const target = process.env.GITHUB_OUTPUT;
    if (!target) throw new Error("--github-output given but GITHUB_OUTPUT is not set");
    appendFileSync(target, `${lines.join("\n")}\n`);
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
