import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./workflows";

/**
 * A job's working directory for running the action's steps as the runner
 * does: the repository's scripts and node_modules, a copy of a synthesized
 * cdktf.out (steps write into it), and a bin directory for stand-ins of the
 * CLIs the steps call (terraform, aws, az), first on the PATH. `npx tsx` is
 * there too: it runs Node with tsx's loader, as `npx tsx` does, without npx's
 * second of start-up per call.
 */
export interface JobDir {
  readonly dir: string;
  readonly temp: string;
  readonly bin: string;
  readonly path: string;
  /** Writes an executable stand-in for a command. */
  readonly tool: (name: string, script: string) => void;
  readonly cleanup: () => void;
}

export function jobDir(cdktfOut?: string): JobDir {
  const base = mkdtempSync(path.join(tmpdir(), "job-"));
  const dir = path.join(base, "work");
  const temp = path.join(base, "temp");
  const bin = path.join(base, "bin");
  for (const sub of [dir, temp, bin]) mkdirSync(sub);
  for (const entry of ["scripts", "tools", "config", "node_modules", "package.json", "tsconfig.json", ".github"]) symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
  if (cdktfOut) cpSync(cdktfOut, path.join(dir, "cdktf.out"), { recursive: true });
  const loader = pathToFileURL(path.join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
  writeFileSync(path.join(bin, "npx"), `#!/bin/bash\n[ "$1" = tsx ] || { echo "npx stand-in: only tsx" >&2; exit 2; }\nshift\nexec node --import ${loader} "$@"\n`);
  chmodSync(path.join(bin, "npx"), 0o755);
  return {
    dir,
    temp,
    bin,
    path: `${bin}:${process.env.PATH}`,
    tool: (name, script) => {
      const file = path.join(bin, name);
      writeFileSync(file, script);
      chmodSync(file, 0o755);
    },
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}
