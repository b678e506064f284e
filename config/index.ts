export { ConfigError, loadConfig, loadConfigFile, validateConfig, readConfigText, MAX_CONFIG_BYTES, type ConfigProblem } from "./load";
export {
  ConfigPathError,
  EXAMPLE_CONFIG_PATH,
  PROJECT_ROOT,
  describeConfigPath,
  resolveConfigPath,
  type ConfigSource,
  type ResolvedConfigPath,
} from "./source";
export { findPlaceholders, placeholderWarning, PLACEHOLDER_AWS_ACCOUNT, type Placeholder } from "./placeholders";
export type { PlatformConfig, EnvironmentConfig, DatabaseServerConfig, ApplicationConfig } from "./schema";
export { sharedServerWarnings, type ResolvedDatabase, type ServerSettings } from "./databases";
export { issuerWarning } from "./issuer";
export { STAGES, type Stage, RESERVED_TAG_KEYS } from "./common";
export type { AwsConfig, AwsNodePoolConfig, AwsSystemNodeGroupConfig } from "./aws";
export type { AzureConfig } from "./azure";
export { configWarnings, configWarningText } from "./warnings";
