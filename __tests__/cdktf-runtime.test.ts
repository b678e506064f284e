import { chmodSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rememberedCheck } from "../tools/cdktf-runtime.cjs";

describe("cdktf's binary version checks, remembered across synths", () => {
  let dir: string;
  let path_: string | undefined;
  const cache = () => path.join(dir, "cache", "binary-versions.json");
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "version-check-"));
    writeFileSync(path.join(dir, "fakeform"), "#!/bin/sh\necho 1.11.0\n");
    chmodSync(path.join(dir, "fakeform"), 0o755);
    path_ = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${path_}`;
  });
  afterEach(() => {
    process.env.PATH = path_;
    rmSync(dir, { recursive: true, force: true });
  });

  it("run once for the same binary, and again when the binary changes", () => {
    let runs = 0;
    const run = () => {
      runs += 1;
      return runs === 1 ? [] : [`run ${runs}`];
    };
    expect(rememberedCheck("k", "fakeform version", run, cache())).toEqual([]);
    expect(rememberedCheck("k", "fakeform version", run, cache())).toEqual([]);
    expect(runs).toBe(1);
    // Another constraint is another check.
    expect(rememberedCheck("other", "fakeform version", run, cache())).toEqual(["run 2"]);
    // A replaced binary is asked again.
    utimesSync(path.join(dir, "fakeform"), new Date(), new Date(Date.now() + 60_000));
    expect(rememberedCheck("k", "fakeform version", run, cache())).toEqual(["run 3"]);
    expect(runs).toBe(3);
  });

  it("run every time when PATH does not find the binary: nothing to key the answer by", () => {
    let runs = 0;
    const run = () => [`run ${++runs}`];
    expect(rememberedCheck("k", "no-such-binary-here version", run, cache())).toEqual(["run 1"]);
    expect(rememberedCheck("k", "no-such-binary-here version", run, cache())).toEqual(["run 2"]);
  });
});
