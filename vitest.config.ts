import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
    // Synthesis and offline plans are CPU-heavy; one file per core.
    pool: "forks",
    // The offline plans of the default program, made once for every test file.
    globalSetup: ["__tests__/support/offline-plans.setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ["default"],
    // Its schema is a JSON import without an import attribute, which only a bundler loads.
    server: { deps: { inline: ["@actions/workflow-parser"] } },
  },
});
