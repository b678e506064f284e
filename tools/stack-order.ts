import { readFileSync } from "node:fs";
import * as path from "node:path";

/** The part of `cdktf.out/manifest.json` the tooling reads. */
export interface Manifest {
  readonly stacks: Record<string, { readonly dependencies: readonly string[]; readonly workingDirectory: string; readonly synthesizedStackPath: string }>;
}

/**
 * Stacks whose synthesized backend is a local file. On a CI runner that file
 * is gone when the job ends, so the workflows refuse to plan or apply them.
 */
export function localStateStacks(outdir: string, manifest: Manifest): string[] {
  return Object.entries(manifest.stacks)
    .filter(([, entry]) => {
      const stack = JSON.parse(readFileSync(path.join(outdir, entry.synthesizedStackPath), "utf8"));
      return stack.terraform?.backend?.local !== undefined;
    })
    .map(([id]) => id)
    .sort();
}

/** The stack part of each cloud's bootstrap stack: `aws-bootstrap`, `azure-bootstrap`. */
export const BOOTSTRAP_STACK_PART = "bootstrap";

/** Whether a stack id is a cloud's bootstrap (`<cloud>-bootstrap`). */
export function isBootstrapStack(id: string): boolean {
  return id.slice(id.indexOf("-") + 1) === BOOTSTRAP_STACK_PART;
}

/**
 * The manifest without the bootstrap stacks, which the workflows never plan
 * or apply: they create the CI identities themselves, and are deployed from
 * a workstation (docs/bootstrap.md).
 */
export function ciManifest(manifest: Manifest): Manifest {
  return { stacks: Object.fromEntries(Object.entries(manifest.stacks).filter(([id]) => !isBootstrapStack(id))) };
}

export function readManifest(outdir: string): Manifest {
  const file = path.join(outdir, "manifest.json");
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Manifest;
  } catch (error) {
    throw new Error(`cannot read ${file}: run 'npm run synth' first (${(error as Error).message})`);
  }
}

/**
 * Each stack's layer: 0 for stacks that depend on nothing, otherwise one more
 * than the deepest stack it depends on. Stacks of one layer never depend on
 * each other, so a layer deploys in parallel once the layers before it are done.
 */
export function stackLayers(manifest: Manifest): string[][] {
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string, from: string[]): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const entry = manifest.stacks[id];
    if (!entry) throw new Error(`stack '${from.at(-1)}' depends on '${id}', which is not in the manifest`);
    if (visiting.has(id)) throw new Error(`dependency cycle: ${[...from, id].join(" -> ")}`);
    visiting.add(id);
    const own = entry.dependencies.reduce((deepest, dependency) => Math.max(deepest, visit(dependency, [...from, id]) + 1), 0);
    visiting.delete(id);
    depth.set(id, own);
    return own;
  };
  const ids = Object.keys(manifest.stacks).sort();
  for (const id of ids) visit(id, []);
  const layers: string[][] = [];
  for (const id of ids) (layers[depth.get(id)!] ??= []).push(id);
  return layers;
}

/** Every stack, dependencies first; stacks of one layer in name order. */
export function deployOrder(manifest: Manifest): string[] {
  return stackLayers(manifest).flat();
}

/** Names of the environments whose stage is `production`. */
export function productionEnvironmentNames(config: { readonly environments: readonly { readonly name: string; readonly stage?: string }[] }): string[] {
  return config.environments.filter((env) => (env.stage ?? env.name) === "production").map((env) => env.name);
}

/**
 * Stacks deployed behind the production approval: those named for an
 * environment of stage `production` (`<cloud>-<env>` and `<cloud>-<env>-data`);
 * every stack that depends on one of them, since it is part of production;
 * and every stack any of those depends on, directly or not. The platform and
 * the add-ons are the cluster and the in-cluster services production runs
 * on, so a change to them is a change to production.
 */
export function productionStacks(manifest: Manifest, productionEnvironments: readonly string[], clusterStacks: readonly string[] = []): Set<string> {
  const production = new Set<string>();
  for (const id of deployOrder(manifest)) {
    const part = id.slice(id.indexOf("-") + 1);
    const named = productionEnvironments.some((env) => part === env || part === `${env}-data`);
    if (named || manifest.stacks[id].dependencies.some((dependency) => production.has(dependency))) production.add(id);
  }
  // Every cluster's platform and add-ons: they build clusters and identities,
  // which only the production identity may. Not what depends on them: a
  // non-production environment stays outside.
  for (const id of Object.keys(manifest.stacks)) {
    if (clusterStacks.includes(id.slice(id.indexOf("-") + 1))) production.add(id);
  }
  const addDependencies = (id: string): void => {
    for (const dependency of manifest.stacks[id].dependencies) {
      if (production.has(dependency)) continue;
      production.add(dependency);
      addDependencies(dependency);
    }
  };
  [...production].forEach(addDependencies);
  return production;
}

/**
 * The stacks that match none of the patterns, which are stack ids where `*`
 * stands for any characters (`azure-*-data`), separated by commas or spaces.
 */
export function withoutStacks(stacks: readonly string[], patterns: string): string[] {
  const expressions = patterns
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((pattern) => new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`));
  return stacks.filter((id) => !expressions.some((expression) => expression.test(id)));
}

/** GitHub runs at most this many jobs from one matrix. */
export const MATRIX_LIMIT = 256;

/** Fails when a matrix of stacks would be larger than GitHub runs. */
export function checkMatrixSize(name: string, stacks: readonly string[]): void {
  if (stacks.length > MATRIX_LIMIT) {
    throw new Error(`${name} has ${stacks.length} stacks but GitHub runs at most ${MATRIX_LIMIT} jobs from one matrix; split the workflow's matrix`);
  }
}

export interface DeployLayer {
  /** Stacks without a production approval. */
  readonly stacks: string[];
  /** Stacks that wait for the production approval. */
  readonly production: string[];
}

/**
 * The layers split for the deploy workflow, which has a fixed number of layer
 * jobs: a manifest deeper than that fails here rather than leaving stacks
 * undeployed.
 */
export function deployLayers(manifest: Manifest, productionEnvironments: readonly string[], jobs: number, clusterStacks: readonly string[] = []): DeployLayer[] {
  const layers = stackLayers(manifest);
  if (layers.length > jobs) {
    throw new Error(
      `the stacks form ${layers.length} dependency layers but the deploy workflow has ${jobs} layer jobs; ` +
        `add a layer job to .github/workflows/deploy.yml (layers: ${layers.map((layer) => layer.join(", ")).join(" | ")})`,
    );
  }
  const production = productionStacks(manifest, productionEnvironments, clusterStacks);
  return Array.from({ length: jobs }, (_, i) => ({
    stacks: (layers[i] ?? []).filter((id) => !production.has(id)),
    production: (layers[i] ?? []).filter((id) => production.has(id)),
  }));
}
