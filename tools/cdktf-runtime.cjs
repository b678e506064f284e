// Two things cdktf does on every synth that cost more than they give, changed
// in the running process without touching node_modules: `npm run synth`
// bundles these in place of cdktf's own (scripts/synth.cjs), and the tests
// install them at run time (__tests__/support/cdktf-runtime.ts), so both
// synthesize the same way.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

// cdktf records where every token was created, with a stack trace of unlimited
// depth, for error messages about that token. Formatting those frames is most
// of what a trace costs, and far more under a test runner that maps each one
// back to its source.
const STACK_FRAMES = 12;

/**
 * The frames above `below`, formatted only when read: V8 records them cheaply,
 * and cdktf reads them only for an error message.
 */
function captureStackTrace(below) {
  const holder = {};
  const previousLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = STACK_FRAMES;
    Error.captureStackTrace(holder, below || captureStackTrace);
  } finally {
    Error.stackTraceLimit = previousLimit;
  }
  let frames;
  const read = () => (frames ??= holder.stack ? holder.stack.split("\n").slice(1).map((s) => s.replace(/^\s*at\s+/, "")) : []);
  return new Proxy([], {
    get: (_, key) => {
      const array = read();
      const value = Reflect.get(array, key, array);
      return typeof value === "function" ? value.bind(array) : value;
    },
    has: (_, key) => Reflect.has(read(), key),
    ownKeys: () => Reflect.ownKeys(read()),
    getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(read(), key),
  });
}

/**
 * cdktf checks the Terraform version for every construct that needs a recent
 * one (each `terraform_data`), by running `terraform version` each time. The
 * answer cannot change within one process: each check is run once. Nor can
 * it change while the binary stays the same file: the answer is kept in
 * `node_modules/.cache`, keyed by the binary's path, size and modification
 * time, and a new or replaced Terraform is asked again.
 */
function checkVersionsOnce(ValidateBinaryVersion) {
  const check = ValidateBinaryVersion.prototype.validate;
  if (check.once) return;
  const results = new Map();
  const once = function validate() {
    const key = JSON.stringify([this.binary, this.versionConstraint, this.versionCommand, this.hint]);
    if (!results.has(key)) results.set(key, rememberedCheck(key, this.versionCommand, () => check.call(this)));
    return [...results.get(key)];
  };
  once.once = true;
  ValidateBinaryVersion.prototype.validate = once;
}

const CACHE_FILE = path.join(process.cwd(), "node_modules", ".cache", "platform-kit", "binary-versions.json");

/** `<path>:<size>:<mtime>` of the command's binary as PATH finds it; undefined when it is not found. */
function binaryStamp(command) {
  const binary = String(command).trim().split(/\s+/)[0];
  if (!binary || binary.includes(path.sep)) return undefined;
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, binary);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat && stat.isFile()) return `${fs.realpathSync(file)}:${stat.size}:${stat.mtimeMs}`;
  }
  return undefined;
}

/** The check's result as last seen for this binary, or the check run now and remembered. */
function rememberedCheck(key, command, run, file = CACHE_FILE) {
  const stamp = binaryStamp(command);
  if (!stamp) return run();
  let cache = {};
  try {
    cache = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    // No cache yet, or an unreadable one: ask the binary.
  }
  const entry = `${key}@${stamp}`;
  if (Array.isArray(cache[entry])) return cache[entry];
  const result = run();
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ ...cache, [entry]: result }));
  } catch {
    // A read-only tree only costs the next run the check.
  }
  return result;
}

module.exports = { STACK_FRAMES, captureStackTrace, checkVersionsOnce, rememberedCheck };
