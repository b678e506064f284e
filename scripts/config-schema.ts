/**
 * `npm run config-schema`: writes config/platform.schema.json (editors read it
 * through the yaml-language-server comment of the example) and the field
 * reference in docs/configuration.md, both from the zod schema.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { REFERENCE_FILE, renderJsonSchema, SCHEMA_FILE, undescribedFields, withReference } from "../tools/config-reference";

const root = path.resolve(__dirname, "..");
const missing = undescribedFields();
if (missing.length > 0) {
  console.error(`fields without a description (add .describe() in config/*.ts): ${missing.join(", ")}`);
  process.exit(1);
}
writeFileSync(path.join(root, SCHEMA_FILE), renderJsonSchema());
const docs = path.join(root, REFERENCE_FILE);
writeFileSync(docs, withReference(readFileSync(docs, "utf8")));
console.log(`wrote ${SCHEMA_FILE} and the reference in ${REFERENCE_FILE}`);
