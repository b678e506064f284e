#!/usr/bin/env node
// `npm run synth`: compiles the program into one CommonJS file with esbuild
// (about a tenth of a second) and runs it in this process. Running TypeScript
// through a loader instead costs more than the synth itself.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const esbuild = require("esbuild");

const root = path.resolve(__dirname, "..");
// One file per process, so that parallel synths (tests, benchmarks) never share it.
const outfile = path.join(root, "node_modules", ".cache", "platform-kit", `main-${process.pid}.js`);

// Each module reads files beside its source (config/platform.yaml, helm-values/,
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

esbuild
  .build({
    entryPoints: [path.join(root, "main.ts")],
    outfile,
    bundle: true,
    packages: "external",
    platform: "node",
    target: "node20",
    format: "cjs",
    sourcemap: "inline",
    logLevel: "warning",
    plugins: [keepSourceDirname],
  })
  .then(() => {
    try {
      require(outfile);
    } finally {
      fs.rmSync(outfile, { force: true });
    }
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
