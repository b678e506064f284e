import { spawnSync } from "node:child_process";

/**
 * Whether a stack's state, and the state of every stack it reads, exists,
 * asked of the storage itself with read rights only.
 *
 * Terraform cannot be asked: on the azurerm backend (Terraform 1.11,
 * `internal/backend/remote-state/azure/backend_state.go`, `StateMgr`) both
 * `terraform init` and a `terraform_remote_state` read write an empty state
 * blob when none exists, which a read-only identity is refused. The S3 backend
 * writes nothing for the default workspace, but the answer is asked the same
 * way on both clouds, so a stack without state reads the same everywhere.
 */

/** Where one state is kept: the backend block of a stack, or a `terraform_remote_state`'s config. */
export type StateLocation =
  | { readonly backend: "s3"; readonly bucket: string; readonly key: string; readonly region: string }
  | { readonly backend: "azurerm"; readonly storageAccount: string; readonly container: string; readonly key: string }
  | { readonly backend: "local"; readonly path: string };

/** A stack's own state and the states of the stacks it reads. */
export interface StackStates {
  readonly own: StateLocation;
  readonly reads: readonly { readonly stack: string; readonly location: StateLocation }[];
}

/** cdktf names the data source that reads another stack's outputs `cross-stack-reference-input-<stack>`. */
const REMOTE_STATE_PREFIX = "cross-stack-reference-input-";

function location(backend: string, config: Record<string, unknown>, where: string): StateLocation {
  const text = (key: string): string => {
    const value = config[key];
    if (typeof value !== "string" || value === "") throw new Error(`${where}: the ${backend} backend has no ${key}`);
    return value;
  };
  switch (backend) {
    case "s3":
      return { backend, bucket: text("bucket"), key: text("key"), region: text("region") };
    case "azurerm":
      return { backend, storageAccount: text("storage_account_name"), container: text("container_name"), key: text("key") };
    case "local":
      return { backend, path: text("path") };
    default:
      throw new Error(`${where}: cannot tell whether state exists on the ${backend} backend (s3, azurerm and local are known)`);
  }
}

/** The states a synthesized stack (`cdk.tf.json`) uses, in its default workspace, the only one cdktf uses. */
export function stackStates(stack: string, json: any): StackStates {
  const backends = Object.entries<Record<string, unknown>>(json.terraform?.backend ?? {});
  if (backends.length !== 1) throw new Error(`${stack}: expected one backend block, found ${backends.length}`);
  const [backend, config] = backends[0];
  const reads = Object.entries<any>(json.data?.terraform_remote_state ?? {})
    .filter(([name]) => name.startsWith(REMOTE_STATE_PREFIX))
    .map(([name, source]) => ({ stack: name.slice(REMOTE_STATE_PREFIX.length), location: location(source.backend, source.config ?? {}, `${stack} reads ${name}`) }))
    .sort((a, b) => a.stack.localeCompare(b.stack));
  return { own: location(backend, config, stack), reads };
}

/** The command that asks the storage whether a state exists, with the credentials the job signed in with. */
export function presenceCommand(state: StateLocation): string[] {
  switch (state.backend) {
    case "s3":
      // HeadObject: s3:GetObject on the key; with s3:ListBucket on the bucket a missing key is a 404, without it a 403.
      return ["aws", "s3api", "head-object", "--bucket", state.bucket, "--key", state.key, "--region", state.region, "--output", "json"];
    case "azurerm":
      // Get Blob Properties with the signed-in identity (Storage Blob Data Reader): never a write.
      return ["az", "storage", "blob", "exists", "--auth-mode", "login", "--account-name", state.storageAccount, "--container-name", state.container, "--name", state.key, "--output", "json"];
    case "local":
      return [];
  }
}

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const describe = (state: StateLocation): string =>
  state.backend === "s3" ? `s3://${state.bucket}/${state.key}` : state.backend === "azurerm" ? `${state.storageAccount}/${state.container}/${state.key}` : state.path;

/**
 * Reads the command's answer: true when the state exists, false when it does
 * not; anything else (no rights, no bucket, no network) is an error naming
 * the state, never taken for "missing".
 */
export function statePresent(state: StateLocation, result: CommandResult): boolean {
  if (state.backend === "s3") {
    if (result.status === 0) return true;
    // botocore's message for a HEAD request: "An error occurred (404) when calling the HeadObject operation: Not Found".
    if (/An error occurred \(404\) when calling the HeadObject operation/.test(result.stderr)) return false;
    const forbidden = /\(403\)/.test(result.stderr) ? " (403: the role needs s3:ListBucket on the bucket to be told that a key does not exist, and s3:GetObject on the key)" : "";
    throw new Error(`cannot tell whether ${describe(state)} exists${forbidden}: ${result.stderr.trim()}`);
  }
  if (state.backend === "azurerm") {
    // The CLI prints {"exists": true|false}.
    let exists: unknown;
    try {
      exists = result.status === 0 ? JSON.parse(result.stdout).exists : undefined;
    } catch {
      exists = undefined;
    }
    if (typeof exists === "boolean") return exists;
    throw new Error(`cannot tell whether ${describe(state)} exists (the identity needs Storage Blob Data Reader on the container): ${result.stderr.trim() || result.stdout.trim()}`);
  }
  throw new Error(`local state ${describe(state)} is not checked: the workflows refuse local state`);
}

export interface StatePresence {
  /** The stack has no state yet: its plan creates everything. */
  readonly newStack: boolean;
  /** Stacks it reads that have no state yet: it waits for them to be applied. */
  readonly waitsFor: string[];
  /** The backend of its own state. */
  readonly backend: StateLocation["backend"];
}

export type Runner = (argv: readonly string[]) => CommandResult;

const run: Runner = ([command, ...args]) => {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error) throw new Error(`${command} could not run (${result.error.message}): it must be on the runner's PATH (docs/workflows.md, 'Self-hosted runners')`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
};

/** Asks the storage about a stack's state and the states it reads. */
export function statePresence(states: StackStates, runner: Runner = run): StatePresence {
  const present = (state: StateLocation) => statePresent(state, runner(presenceCommand(state)));
  return {
    newStack: !present(states.own),
    waitsFor: states.reads.filter((read) => !present(read.location)).map((read) => read.stack),
    backend: states.own.backend,
  };
}
