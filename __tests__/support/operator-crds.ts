import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CrdValidator } from "./crd-schemas";

const GROUP = "notification.toolkit.fluxcd.io";

/** The operator's facts pinned in __tests__/upstream/flux-operator.json. */
export const fluxOperatorFacts = (): any => JSON.parse(readFileSync(path.join(__dirname, "..", "upstream", "flux-operator.json"), "utf8"));

/** The kind enum of a notification CRD's reference list (`resources` of a Receiver, `eventSources` of an Alert). */
export const kindEnum = (schema: any, field: string): string[] => schema.properties.spec.properties[field].items.properties.kind.enum;

/**
 * A validator of the notification CRDs as the Flux Operator installs them:
 * the shared (upstream, unpatched) schemas copied to a temporary directory
 * with the operator's patch applied as its template writes it. `dispose`
 * removes the copy.
 */
export function operatorPatchedNotificationValidator(crdSchemaDir: string): { validator: CrdValidator; dispose: () => void } {
  const upstream = fluxOperatorFacts();
  const patchFacts = upstream.operator.notificationPatch;
  const dir = mkdtempSync(path.join(tmpdir(), "operator-crds-"));
  mkdirSync(path.join(dir, GROUP));
  cpSync(path.join(crdSchemaDir, GROUP), path.join(dir, GROUP), { recursive: true });
  for (const [crd, target] of Object.entries<any>(patchFacts.targets)) {
    for (const index of target.versionIndexes) {
      const version = upstream.distribution.crdVersionOrder[crd][index];
      const file = path.join(dir, GROUP, `${target.kind}_${version}.json`);
      const schema = JSON.parse(readFileSync(file, "utf8"));
      kindEnum(schema, target.field).push(...patchFacts.kinds);
      writeFileSync(file, JSON.stringify(schema));
    }
  }
  return { validator: new CrdValidator(dir), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
