import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { configWith, synthesize, validateConfig, type Synthesized } from "./synth";
import { ROOT } from "./workflows";

/**
 * A job's working directory for running the action's steps as the runner
 * does: the repository's scripts and node_modules, a copy of a synthesized
 * cdktf.out (steps write into it), and a bin directory for stand-ins of the
 * CLIs the steps call (terraform, aws, az), first on the PATH. `npx tsx` is
 * there too: it runs the repository's script compiled by esbuild (what tsx
 * compiles with) once per worker, so that a step costs a tenth of a second of
 * Node instead of npx's and tsx's start-up.
 */
export interface JobDir {
  readonly dir: string;
  readonly temp: string;
  readonly bin: string;
  readonly path: string;
  /** Writes an executable stand-in for a command. */
  readonly tool: (name: string, script: string) => void;
  readonly cleanup: () => void;
}

export function jobDir(cdktfOut?: string): JobDir {
  const base = mkdtempSync(path.join(tmpdir(), "job-"));
  const dir = path.join(base, "work");
  const temp = path.join(base, "temp");
  const bin = path.join(base, "bin");
  for (const sub of [dir, temp, bin]) mkdirSync(sub);
  for (const entry of ["scripts", "tools", "config", "node_modules", "package.json", "tsconfig.json", ".github"]) symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
  if (cdktfOut) cpSync(cdktfOut, path.join(dir, "cdktf.out"), { recursive: true });
  const scripts = compiledScripts();
  writeFileSync(
    path.join(bin, "npx"),
    `#!/bin/bash\n[ "$1" = tsx ] && [[ "$2" == scripts/*.ts ]] || { echo "npx stand-in: only tsx scripts/<name>.ts" >&2; exit 2; }\nscript="$2"; shift 2\nexec node "${scripts}/$(basename "$script" .ts).cjs" "$@"\n`,
  );
  chmodSync(path.join(bin, "npx"), 0o755);
  return {
    dir,
    temp,
    bin,
    path: `${bin}:${process.env.PATH}`,
    tool: (name, script) => {
      const file = path.join(bin, name);
      writeFileSync(file, script);
      chmodSync(file, 0o755);
    },
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}

let compiled: string | undefined;

/**
 * The repository's scripts compiled once per worker into `<dir>/scripts/*.cjs`,
 * beside links to `.github` and `node_modules`, so that a script that finds
 * the repository from its own path (`path.resolve(__dirname, "..")`) finds it.
 */
function compiledScripts(): string {
  if (compiled) return compiled;
  const root = mkdtempSync(path.join(tmpdir(), "compiled-scripts-"));
  process.once("exit", () => rmSync(root, { recursive: true, force: true }));
  for (const entry of [".github", "node_modules"]) symlinkSync(path.join(ROOT, entry), path.join(root, entry));
  const entryPoints = readdirSync(path.join(ROOT, "scripts")).filter((file) => file.endsWith(".ts")).map((file) => path.join(ROOT, "scripts", file));
  buildSync({ entryPoints, outdir: path.join(root, "scripts"), outExtension: { ".js": ".cjs" }, bundle: true, platform: "node", format: "cjs", packages: "external", logLevel: "silent" });
  compiled = path.join(root, "scripts");
  return compiled;
}

/**
 * A synthesized program whose CI stacks keep their state remotely, as the
 * workflows require: the default program when its configuration already
 * names both clouds' state backends (then nothing is synthesized again),
 * else the default configuration with example backends.
 */
export function remoteStateProgram(): Synthesized {
  const program = synthesize();
  const backends = Object.values(program.manifest.stacks).map((entry) => Object.keys(stackJson(program, entry.synthesizedStackPath).terraform.backend)[0]);
  if (backends.includes("s3") && backends.includes("azurerm")) return program;
  const raw = configWith((config) => {
    config.clouds.aws.stateBackend = { bucket: "acme-platform-state", region: "eu-west-1", kmsKeyId: "alias/terraform-state" };
    config.clouds.azure.stateBackend = { resourceGroupName: "tfstate", storageAccountName: "acmetfstate", containerName: "tfstate" };
  });
  return synthesize(validateConfig(raw));
}

export function stackJson(program: Synthesized, synthesizedStackPath: string): any {
  return JSON.parse(readFileSync(path.join(program.outdir, synthesizedStackPath), "utf8"));
}

/** The state key of a stack, as its backend names it. */
export function stateKey(program: Synthesized, stack: string): string {
  const backend = stackJson(program, program.manifest.stacks[stack].synthesizedStackPath).terraform.backend;
  return backend[Object.keys(backend)[0]].key;
}
