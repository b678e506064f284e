// cdktf records where every token was created, with a stack trace of unlimited
// depth, for error messages about that token. Capturing and formatting those
// costs an eighth of a synth, and far more under a test runner that maps every
// frame back to its source; the last frames name the construct code just as well.
// `npm run synth` bundles this in place of cdktf's own (scripts/synth.cjs); the
// tests install it at run time, so both synthesize the same way.
"use strict";
const path = require("node:path");

const STACK_FRAMES = 12;

function captureStackTrace(below) {
  const object = { stack: "" };
  const previousLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = STACK_FRAMES;
    Error.captureStackTrace(object, below || captureStackTrace);
  } finally {
    Error.stackTraceLimit = previousLimit;
  }
  return object.stack ? object.stack.split("\n").slice(1).map((s) => s.replace(/^\s*at\s+/, "")) : [];
}

/** Replaces cdktf's capture in the running process, for code loaded from node_modules as is. */
function installShortStackTraces() {
  const cdktfLib = path.dirname(require.resolve("cdktf"));
  // cdktf's callers look the function up on this module at each call.
  const module = require(path.join(cdktfLib, "tokens", "private", "stack-trace.js"));
  module.captureStackTrace = captureStackTrace;
}

module.exports = { STACK_FRAMES, captureStackTrace, installShortStackTraces };
