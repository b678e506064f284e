import { readFileSync, writeFileSync } from "node:fs";
import { loadConfig, resolveConfigPath } from "../config";
import { ciIdentityTable, embedTable } from "../tools/ci-identities";

/**
 * Writes the CI identities table of docs/workflows.md from the synthesized
 * program (cdktf.out, or --outdir): run `npm run ci-identities` after
 * changing a bootstrap stack or the grants the platform stacks give the CI
 * identities.
 */
const args = process.argv.slice(2);
const outdirIndex = args.indexOf("--outdir");
const outdir = outdirIndex >= 0 ? args[outdirIndex + 1] : "cdktf.out";
const DOCUMENT = "docs/workflows.md";

try {
  const repository = loadConfig(resolveConfigPath().path).ci?.repository;
  if (!repository) throw new Error("the configuration has no ci: no CI identities to describe");
  const document = readFileSync(DOCUMENT, "utf8");
  const updated = embedTable(document, ciIdentityTable(outdir, repository));
  if (updated === document) {
    console.log(`${DOCUMENT} is up to date`);
  } else {
    writeFileSync(DOCUMENT, updated);
    console.log(`updated the CI identities table in ${DOCUMENT}`);
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
