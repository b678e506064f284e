import { readFileSync } from "node:fs";
import * as path from "node:path";
import { guardPlan, notAPlan, type PlanJson } from "../tools/destroy-guard";

/**
 * Exits 1 when a plan deletes or replaces a protected resource, and 2 when a
 * file cannot be read or is not a Terraform plan in JSON.
 *
 *   tsx scripts/destroy-guard.ts [--allow-destroy] [--stack <id>] <plan.json>...
 *
 * Each file is `terraform show -json <planfile>` output; the stack name defaults
 * to the file name without `.plan.json` / `.json`.
 */
const args = process.argv.slice(2);
const allowDestroy = args.includes("--allow-destroy");
const stackIndex = args.indexOf("--stack");
const stackName = stackIndex >= 0 ? args[stackIndex + 1] : undefined;
const files = args.filter((arg, i) => !arg.startsWith("--") && !(stackIndex >= 0 && i === stackIndex + 1));
if (files.length === 0) {
  console.error("usage: destroy-guard [--allow-destroy] [--stack <id>] <plan.json>...");
  process.exit(2);
}

/** A plan file's JSON, or exit 2 with one line saying why it cannot be checked. */
function readPlan(file: string): PlanJson {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (error as Error).message;
    return refuse(`cannot read ${file}: ${reason}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return refuse(`${file} is not JSON (${(error as Error).message}); give the output of terraform show -json <planfile>`);
  }
  const problem = notAPlan(value);
  return problem ? refuse(`${file} ${problem}`) : (value as PlanJson);
}

function refuse(message: string): never {
  console.error(`destroy-guard: ${message}`);
  process.exit(2);
}

let ok = true;
for (const file of files) {
  const stack = stackName ?? path.basename(file).replace(/(\.plan)?\.json$/, "");
  const result = guardPlan(stack, readPlan(file), { allowDestroy });
  (result.ok ? console.log : console.error)(result.message);
  ok &&= result.ok;
}
process.exit(ok ? 0 : 1);
