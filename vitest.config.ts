import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { defineConfig, type Plugin } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The workflow parser ships source maps that point at sources it does not
 * ship; dropping the references keeps the test output free of one warning
 * per module.
 */
const dropMissingSourceMaps: Plugin = {
  name: "drop-missing-source-maps",
  enforce: "pre",
  load(id) {
    if (!id.includes("/node_modules/@actions/workflow-parser/") || !id.endsWith(".js")) return undefined;
    return { code: readFileSync(id, "utf8").replace(/^\/\/# sourceMappingURL=.*$/gm, ""), map: null };
  },
};

/**
 * Test files that run Terraform themselves start first, so that their plans
 * run beside other files' synthesis instead of after all of it; the rest keep
 * Vitest's order (slowest of the last run first).
 */
class TerraformFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const runsTerraform = new Set(sorted.filter((file) => /\b(planRoutineDrift|planOffline|planText)\(/.test(readFileSync(file.moduleId, "utf8"))));
    return [...runsTerraform, ...sorted.filter((file) => !runsTerraform.has(file))];
  }
}

export default defineConfig({
  plugins: [dropMissingSourceMaps],
  test: {
    include: ["__tests__/**/*.test.ts"],
    // Synthesis and offline plans are CPU-heavy; one file per core. Vitest's
    // default leaves one core free, which on a 2-core machine runs the files one by one.
    pool: "forks",
    maxWorkers: availableParallelism(),
    // Test files of a worker share its module cache: the provider packages are
    // loaded once per worker, and each configuration synthesized once
    // (__tests__/support/synth.ts). No test file mocks modules or globals.
    isolate: false,
    // The default program synthesized once, and its offline plans, for every test file.
    globalSetup: ["__tests__/support/offline-plans.setup.ts"],
    setupFiles: ["__tests__/support/cdktf-runtime.setup.ts"],
    sequence: { sequencer: TerraformFirst },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ["default", "./__tests__/support/skipped-checks-reporter.ts"],
    // Its schema is a JSON import without an import attribute, which only a bundler loads.
    server: { deps: { inline: ["@actions/workflow-parser"] } },
  },
});
