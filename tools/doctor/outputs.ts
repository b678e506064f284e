import * as path from "node:path";
import type { PlatformConfig } from "../../config";

/** A stack's Terraform outputs by name, values only. */
export type StackOutputs = Readonly<Record<string, unknown>>;

/** The outputs of a stack by id; undefined when the stack has no state yet. */
export type OutputsSource = (stack: string) => Promise<StackOutputs | undefined>;

/**
 * Read access to where the deploy keeps state, one function per kind of
 * backend, each returning the object's text or undefined when it does not
 * exist. The real ones use the S3 client, Azure Blob Storage's REST API and
 * the file system; tests pass recorded state.
 */
export interface StateReaders {
  readonly s3: (location: { bucket: string; key: string; region: string }) => Promise<string | undefined>;
  readonly azureBlob: (location: { account: string; container: string; key: string }) => Promise<string | undefined>;
  readonly file: (file: string) => Promise<string | undefined>;
}

/** `<keyPrefix>/<stack>.tfstate`: the key every stack's backend is given (constructs/aws/stack-setup.ts, constructs/azure/stack-setup.ts). */
export const stateKey = (keyPrefix: string, stack: string): string => `${keyPrefix}/${stack}.tfstate`;

/** Local state: `terraform.<stack>.tfstate` in the project root (constructs/common/state.ts). */
export const localStateFile = (projectRoot: string, stack: string): string => path.join(projectRoot, `terraform.${stack}.tfstate`);

/** The outputs of a Terraform state file (format version 4): `outputs.<name>.value`. */
export function stateOutputs(stateText: string): StackOutputs {
  const state = JSON.parse(stateText) as { version?: number; outputs?: Record<string, { value: unknown }> };
  if (state.version !== 4) throw new Error(`not a Terraform state of format version 4 (version ${String(state.version)})`);
  return Object.fromEntries(Object.entries(state.outputs ?? {}).map(([name, output]) => [name, output.value]));
}

/**
 * Outputs from the state the deploy wrote: the configured S3 or Azure
 * backend, or local state beside the project, exactly as the stacks'
 * backends name them. Reading a state takes no lock and changes nothing.
 */
export function outputsFromState(config: PlatformConfig, readers: StateReaders, projectRoot: string): OutputsSource {
  return async (stack) => {
    const cloud = stack.split("-")[0];
    let text: string | undefined;
    if (cloud === "aws" && config.clouds.aws?.stateBackend) {
      const backend = config.clouds.aws.stateBackend;
      text = await readers.s3({ bucket: backend.bucket, key: stateKey(backend.keyPrefix, stack), region: backend.region });
    } else if (cloud === "azure" && config.clouds.azure?.stateBackend) {
      const backend = config.clouds.azure.stateBackend;
      text = await readers.azureBlob({ account: backend.storageAccountName, container: backend.containerName, key: stateKey(backend.keyPrefix, stack) });
    } else {
      text = await readers.file(localStateFile(projectRoot, stack));
    }
    return text === undefined ? undefined : stateOutputs(text);
  };
}

const isTerraformOutput = (value: unknown): value is { value: unknown } =>
  typeof value === "object" && value !== null && "value" in value && ("type" in value || "sensitive" in value);

/**
 * Outputs from a file: `{ "<stack>": { "<output>": <value> } }` as
 * `cdktf deploy --outputs-file` writes it, or with each output as
 * `terraform output -json` prints it (`{ "value": ..., "type": ..., "sensitive": ... }`).
 */
export function outputsFromFile(text: string, source: string): OutputsSource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`${source}: expected an object of stacks, each an object of outputs`);
  const stacks = parsed as Record<string, Record<string, unknown>>;
  return async (stack) => {
    const outputs = stacks[stack];
    if (outputs === undefined) return undefined;
    return Object.fromEntries(Object.entries(outputs).map(([name, value]) => [name, isTerraformOutput(value) ? value.value : value]));
  };
}

/** A string output, or undefined when absent or not a string. */
export function stringOutput(outputs: StackOutputs | undefined, name: string): string | undefined {
  const value = outputs?.[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}
