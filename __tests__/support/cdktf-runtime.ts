import * as path from "node:path";
import { captureStackTrace, checkVersionsOnce } from "../../tools/cdktf-runtime.cjs";

/**
 * What `npm run synth` bundles in place of cdktf's own code
 * (tools/cdktf-runtime.cjs), installed in the running process for cdktf as
 * loaded from node_modules.
 */
export function installCdktfRuntime(): void {
  const lib = path.dirname(require.resolve("cdktf"));
  // cdktf's callers look the function up on this module at each call.
  require(path.join(lib, "tokens", "private", "stack-trace.js")).captureStackTrace = captureStackTrace;
  checkVersionsOnce(require(path.join(lib, "validations", "validate-binary-version.js")).ValidateBinaryVersion);
}
