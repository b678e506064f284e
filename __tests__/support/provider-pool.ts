import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import * as path from "node:path";

/**
 * Running AWS provider processes that Terraform commands attach to
 * (`TF_REATTACH_PROVIDERS`, Terraform's documented way to use a provider it
 * did not start) instead of starting one each. Starting the provider costs
 * about 1.5 s of CPU per command before it does any work; a process of this
 * pool starts once and serves one command at a time, so no two commands ever
 * configure the same process at once.
 */

interface Provider {
  readonly child: ChildProcess;
  /** The `TF_REATTACH_PROVIDERS` value that points Terraform at this process. */
  readonly reattach: string;
  alive: boolean;
}

/** Processes per test process: as many as commands run side by side in one. */
const POOL_SIZE = 2;
const idle = new Map<string, Provider[]>();
const all: Provider[] = [];

const AWS_PROVIDER_DIR = path.join(".terraform", "providers", "registry.terraform.io", "hashicorp", "aws");

/**
 * The AWS provider binary an initialised workdir uses, when the stack
 * configures the AWS provider once: a stack with aliases needs one process per
 * configuration, which Terraform starts itself.
 */
function awsProviderBinary(workdir: string): string | undefined {
  if (!binaries.has(workdir)) binaries.set(workdir, findAwsProviderBinary(workdir));
  return binaries.get(workdir);
}

/** Read once per workdir: a plan, its `show` and the drift rounds all run in the same one. */
const binaries = new Map<string, string | undefined>();

function findAwsProviderBinary(workdir: string): string | undefined {
  const stackFile = path.join(workdir, "cdk.tf.json");
  if (!existsSync(stackFile) || !existsSync(path.join(workdir, AWS_PROVIDER_DIR))) return undefined;
  const configurations = JSON.parse(readFileSync(stackFile, "utf8")).provider?.aws;
  if (!Array.isArray(configurations) || configurations.length !== 1) return undefined;
  for (const version of readdirSync(path.join(workdir, AWS_PROVIDER_DIR))) {
    for (const platform of readdirSync(path.join(workdir, AWS_PROVIDER_DIR, version))) {
      const dir = path.join(workdir, AWS_PROVIDER_DIR, version, platform);
      const binary = readdirSync(dir).find((name) => name.startsWith("terraform-provider-aws"));
      if (binary) return realpathSync(path.join(dir, binary));
    }
  }
  return undefined;
}

function start(binary: string, env: NodeJS.ProcessEnv): Promise<Provider> {
  return new Promise((resolve, reject) => {
    // Through a shell that stops the provider when its standard input closes: when this
    // process ends, however it ends (a test worker may be killed), no provider stays behind.
    const child = spawn("sh", ["-c", '"$0" -debug </dev/null & provider=$!; cat >/dev/null; kill "$provider"; wait "$provider"', binary], { env, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    const onData = (chunk: Buffer) => {
      if (provider) return;
      output += chunk.toString("utf8");
      const match = /TF_REATTACH_PROVIDERS='([^']+)'/.exec(output);
      if (match) {
        provider = { child, reattach: match[1], alive: true };
        all.push(provider);
        // Ready: an idle provider no longer keeps the test process alive.
        child.unref();
        (child.stdout as unknown as { unref?: () => void }).unref?.();
        (child.stderr as unknown as { unref?: () => void }).unref?.();
        (child.stdin as unknown as { unref?: () => void }).unref?.();
        resolve(provider);
      }
    };
    let provider: Provider | undefined;
    // Read to the end, so that a chatty provider never blocks on a full pipe.
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("error", reject);
    child.on("exit", (code) => {
      if (provider) provider.alive = false;
      else reject(new Error(`the AWS provider exited (${code}) before it was ready:\n${output}`));
    });
  });
}

let starting = 0;

/**
 * Runs a Terraform command with a pooled provider attached when the workdir
 * allows it and one is free (or may still be started); otherwise as usual.
 */
export async function withPooledProvider<T>(workdir: string, env: NodeJS.ProcessEnv, run: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const binary = awsProviderBinary(workdir);
  if (!binary) return run(env);
  const free = (idle.get(binary) ?? []).filter((p) => p.alive);
  let provider = free.shift();
  idle.set(binary, free);
  if (!provider && all.filter((p) => p.alive).length + starting < POOL_SIZE) {
    starting++;
    try {
      provider = await start(binary, env);
    } catch {
      provider = undefined;
    } finally {
      starting--;
    }
  }
  if (!provider) return run(env);
  try {
    return await run({ ...env, TF_REATTACH_PROVIDERS: provider.reattach });
  } finally {
    if (provider.alive) idle.get(binary)!.push(provider);
  }
}

/** Stops every pooled provider of this process. */
export function stopPooledProviders(): void {
  for (const provider of all.splice(0)) if (provider.alive) provider.child.stdin!.end();
  idle.clear();
}

process.on("exit", stopPooledProviders);
