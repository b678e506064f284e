#!/usr/bin/env node
// `npm run synth`: compiles the program, with the parts of cdktf and the
// provider packages it imports, into one CommonJS file with esbuild and runs
// it in this process. Loading one file is faster than resolving and compiling
// hundreds of modules, and running TypeScript through a loader costs more than
// the synth itself. The bundle is kept in node_modules/.cache and rebuilt only
// when one of the files it was built from changes.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const cacheDir = path.join(root, "node_modules", ".cache", "platform-kit");
const bundleFile = path.join(cacheDir, "synth-bundle.js");
const inputsFile = path.join(cacheDir, "synth-bundle.inputs.json");
// V8's compiled code of the bundle, from the last run (runBundle).
const codeCacheFile = `${bundleFile}.v8-cache`;

// Each module of the program reads files beside its source (config/, helm-values/,
// the manifests chart), so `__dirname` keeps meaning the source file's folder.
const keepSourceDirname = {
  name: "keep-source-dirname",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, "utf8");
      if (!source.includes("__dirname")) return undefined;
      return { contents: source.replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path))), loader: "ts" };
    });
  },
};

// cdktf's token stack traces and Terraform version checks, as cdktf-runtime.cjs changes them.
const cdktfRuntime = {
  name: "cdktf-runtime",
  setup(build) {
    const runtime = JSON.stringify(path.join(__dirname, "..", "tools", "cdktf-runtime.cjs"));
    build.onLoad({ filter: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]tokens[\\/]private[\\/]stack-trace\.js$/ }, () => ({
      loader: "js",
      contents: `"use strict";\nexports.captureStackTrace = require(${runtime}).captureStackTrace;`,
    }));
    build.onLoad({ filter: /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]validations[\\/]validate-binary-version\.js$/ }, async (args) => ({
      loader: "js",
      contents: `${await fs.promises.readFile(args.path, "utf8")}\nrequire(${runtime}).checkVersionsOnce(exports.ValidateBinaryVersion);\n`,
    }));
  },
};

/** Size and modification time of every file the bundle was built from. */
function fingerprint(files) {
  const hash = crypto.createHash("sha256");
  // The bundle depends on how this script builds it, and on the Node that runs it.
  hash.update(`${process.version}\0${fs.readFileSync(__filename, "utf8")}`);
  for (const file of files) {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    hash.update(`${file}\0${stat ? `${stat.size}:${stat.mtimeMs}` : "missing"}\n`);
  }
  return hash.digest("hex");
}

function cachedBundle() {
  try {
    const { files, digest } = JSON.parse(fs.readFileSync(inputsFile, "utf8"));
    return fs.existsSync(bundleFile) && fingerprint(files) === digest ? bundleFile : undefined;
  } catch {
    return undefined;
  }
}

async function buildBundle() {
  const esbuild = require("esbuild");
  const result = await esbuild.build({
    entryPoints: [path.join(root, "main.ts")],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "warning",
    plugins: [keepSourceDirname, cdktfRuntime],
  });
  const files = Object.keys(result.metafile.inputs).map((input) => path.resolve(root, input)).sort();
  fs.mkdirSync(cacheDir, { recursive: true });
  // Written under a unique name and renamed, so parallel synths never read half a file.
  const temporary = `${bundleFile}.${process.pid}`;
  fs.writeFileSync(temporary, result.outputFiles[0].contents);
  fs.renameSync(temporary, bundleFile);
  fs.rmSync(codeCacheFile, { force: true });
  const inputsTemporary = `${inputsFile}.${process.pid}`;
  fs.writeFileSync(inputsTemporary, JSON.stringify({ files, digest: fingerprint(files) }));
  fs.renameSync(inputsTemporary, inputsFile);
  return bundleFile;
}

/**
 * Runs the bundle as `require` would, with V8's code cache: the compiled code
 * of a run is kept beside the bundle, and the next run starts from it instead
 * of parsing and compiling 180,000 lines again (Node 20 has no compile cache
 * of its own). A cache V8 rejects, or none, is written anew after the run.
 */
function runBundle(bundle) {
  const vm = require("node:vm");
  const Module = require("node:module");
  let cachedData;
  try {
    cachedData = fs.readFileSync(codeCacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, "utf8")), { filename: bundle, cachedData });
  const bundleModule = new Module(bundle, module);
  bundleModule.filename = bundle;
  bundleModule.paths = Module._nodeModulePaths(path.dirname(bundle));
  const run = script.runInThisContext();
  const saveCache = () => {
    if (cachedData && !script.cachedDataRejected) return;
    const temporary = `${codeCacheFile}.${process.pid}`;
    fs.writeFileSync(temporary, script.createCachedData());
    fs.renameSync(temporary, codeCacheFile);
  };
  // After the synth, so that the functions it compiled are in the cache too.
  process.once("exit", saveCache);
  run.call(bundleModule.exports, bundleModule.exports, Module.createRequire(bundle), bundleModule, bundle, path.dirname(bundle));
}

Promise.resolve(cachedBundle() ?? buildBundle())
  .then(runBundle)
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
