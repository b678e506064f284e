export { ConfigError, loadConfig, validateConfig, DEFAULT_CONFIG_PATH, type ConfigProblem } from "./load";
export type { PlatformConfig, EnvironmentConfig } from "./schema";
export { STAGES, type Stage, RESERVED_TAG_KEYS } from "./common";
export type { AwsConfig, AwsNodePoolConfig, AwsSystemNodeGroupConfig } from "./aws";
export type { AzureConfig } from "./azure";
