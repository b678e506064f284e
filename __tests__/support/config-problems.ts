import { expect } from "vitest";
import { ConfigError, validateConfig, type ConfigProblem } from "../../config";
import { configWith } from "./synth";

/** A bad configuration: a change to the default one, and the one problem it must cause. */
export interface BadConfigCase {
  readonly name: string;
  readonly change: (raw: any) => void;
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
}

/** The single problem a changed default config produces; fails when it is valid or has several. */
export function problemOf(change: (raw: any) => void): ConfigProblem {
  try {
    validateConfig(configWith(change));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { problems } = error as ConfigError;
    expect(problems).toHaveLength(1);
    return problems[0];
  }
  throw new Error("the configuration was accepted");
}
