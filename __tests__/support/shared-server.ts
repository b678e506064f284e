import { validateConfig, type PlatformConfig } from "../../config";
import { configWith } from "./synth";

export const SHARED_SERVER = "shared-main";

/** A shared server as the docs show it: sized once, as strict as staging needs. */
export const sharedServerDefinition = () => ({
  name: SHARED_SERVER,
  storageGb: 50,
  highAvailability: false,
  backupRetentionDays: 14,
  instanceClass: "db.t4g.medium",
  skuName: "GP_Standard_D2ds_v5",
});

/**
 * The example with develop and staging on one shared server and production on
 * its own: both features at once (the example's object storage, a shared
 * server), planned once offline. Production keeps its own server, as the
 * default does.
 */
export function sharedServerRaw(change: (raw: any) => void = () => undefined): any {
  return configWith((raw) => {
    raw.databaseServers = [sharedServerDefinition()];
    raw.environments[0].database = { server: SHARED_SERVER };
    raw.environments[1].database = { server: SHARED_SERVER };
    change(raw);
  });
}

export function sharedServerConfig(change?: (raw: any) => void): PlatformConfig {
  return validateConfig(sharedServerRaw(change));
}
