// cdktf records where every token was created, with a stack trace of unlimited
// depth, for error messages about that token. Capturing and formatting those
// costs an eighth of a synth, and far more under a test runner that maps every
// frame back to its source; the last frames name the construct code just as well.
// `npm run synth` bundles this in place of cdktf's own (scripts/synth.cjs); the
// tests install it at run time, so both synthesize the same way.
"use strict";
const path = require("node:path");

const STACK_FRAMES = 12;

/**
 * The frames above `below`, formatted only when read: V8 records them cheaply,
 * and cdktf reads them only for an error message, while formatting every one
 * is most of what capturing costs.
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

/** Replaces cdktf's capture in the running process, for code loaded from node_modules as is. */
function installShortStackTraces() {
  const cdktfLib = path.dirname(require.resolve("cdktf"));
  // cdktf's callers look the function up on this module at each call.
  const module = require(path.join(cdktfLib, "tokens", "private", "stack-trace.js"));
  module.captureStackTrace = captureStackTrace;
}

module.exports = { STACK_FRAMES, captureStackTrace, installShortStackTraces };
