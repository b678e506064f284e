import { App } from "cdktf";
import { ConfigError, loadConfig, type PlatformConfig } from "./config";
import { buildPlatform } from "./stacks/app";

function main(): number {
  // Validate everything before the app exists, so a bad config writes nothing.
  let config: PlatformConfig;
  try {
    config = loadConfig(process.env.PLATFORM_CONFIG);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  const app = new App();
  buildPlatform(app, config);
  app.synth();
  return 0;
}

process.exitCode = main();
