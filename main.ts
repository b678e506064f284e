import { App } from "cdktf";
import { ConfigError, loadConfig } from "./config";
import { buildPlatform } from "./stacks/app";

// Validate everything before the app exists, so a bad config writes nothing.
let config;
try {
  config = loadConfig(process.env.PLATFORM_CONFIG);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const app = new App();
buildPlatform(app, config);
app.synth();
