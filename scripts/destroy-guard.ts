import { readFileSync } from "node:fs";
import * as path from "node:path";
import { guardPlan } from "../tools/destroy-guard";

/**
 * Exits 1 when a plan deletes or replaces a protected resource.
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

let ok = true;
for (const file of files) {
  const stack = stackName ?? path.basename(file).replace(/(\.plan)?\.json$/, "");
  const result = guardPlan(stack, JSON.parse(readFileSync(file, "utf8")), { allowDestroy });
  (result.ok ? console.log : console.error)(result.message);
  ok &&= result.ok;
}
process.exit(ok ? 0 : 1);
