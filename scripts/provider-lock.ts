import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { requiredProviders } from "../tools/provider-lock";
import { readManifest } from "../tools/stack-order";

/**
 * Writes `<outdir>/providers/main.tf.json`, a configuration that requires
 * every provider of the synthesized stacks (tools/provider-lock.ts), for the
 * prepare jobs to lock once with `terraform init -backend=false`.
 *
 *   tsx scripts/provider-lock.ts [--outdir cdktf.out]
 */
const args = process.argv.slice(2);
const outdir = args.includes("--outdir") ? args[args.indexOf("--outdir") + 1] : "cdktf.out";

try {
  const providers = requiredProviders(readManifest(outdir), (file) => JSON.parse(readFileSync(path.join(outdir, file), "utf8")));
  const dir = path.join(outdir, "providers");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "main.tf.json"), `${JSON.stringify({ terraform: { required_providers: providers } }, null, 2)}\n`);
  console.log(Object.entries(providers).map(([name, p]) => `${name} ${p.source} ${p.version}`).join("\n"));
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
