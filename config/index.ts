export { ConfigError, loadConfig, validateConfig, readConfigText, DEFAULT_CONFIG_PATH, type ConfigProblem } from "./load";
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
export { issuerWarning } from "./issuer";
export type { PlatformConfig, EnvironmentConfig } from "./schema";
export { STAGES, type Stage, RESERVED_TAG_KEYS } from "./common";
export type { AwsConfig, AwsNodePoolConfig, AwsSystemNodeGroupConfig } from "./aws";
export type { AzureConfig } from "./azure";
