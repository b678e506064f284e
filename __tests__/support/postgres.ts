import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Availability } from "./environment";

/**
 * A throw-away PostgreSQL server for tests that run the program's SQL against
 * the real thing: a data directory in /tmp, a Unix socket beside it, no TCP,
 * password (SCRAM) authentication. The binaries come from `PG_BINDIR`, else
 * from where `initdb` is on PATH, else from Debian's /usr/lib/postgresql/<n>/bin
 * (the `postgresql` package; `.ci/run` installs it). PostgreSQL refuses to run
 * as root, so under root the server runs as the `postgres` (or `nobody`) user.
 */

export interface PostgresBinaries extends Availability {
  readonly bindir?: string;
}

export function postgresBinaries(): PostgresBinaries {
  const has = (dir: string) => ["initdb", "pg_ctl", "postgres", "psql"].every((tool) => existsSync(path.join(dir, tool)));
  const configured = process.env.PG_BINDIR;
  if (configured) return has(configured) ? { available: true, reason: "", bindir: configured } : { available: false, reason: `PG_BINDIR=${configured} lacks initdb, pg_ctl, postgres or psql` };
  const debian = "/usr/lib/postgresql";
  const versions = existsSync(debian) ? readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const dir of versions.map((v) => path.join(debian, v, "bin"))) if (has(dir)) return { available: true, reason: "", bindir: dir };
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) if (dir && has(dir)) return { available: true, reason: "", bindir: dir };
  return { available: false, reason: "no PostgreSQL server binaries (initdb, pg_ctl, postgres): install Debian's postgresql or set PG_BINDIR" };
}

/** The account the server runs as under root. */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    const id = spawnSync("id", ["-u", name], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
    if (id.status === 0 && gid.status === 0) return { name, uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as");
}

export class TestPostgres {
  readonly socketDir: string;
  readonly port = 5432;
  private readonly root: string;
  private readonly data: string;
  private readonly user = serverUser();

  constructor(
    private readonly bindir: string,
    readonly superuserPassword = "superuser-test-password",
  ) {
    this.root = mkdtempSync(path.join(tmpdir(), "platform-postgres-"));
    this.data = path.join(this.root, "data");
    this.socketDir = this.root;
    const passwordFile = path.join(this.root, "password");
    writeFileSync(passwordFile, `${superuserPassword}\n`);
    if (this.user) for (const file of [this.root, passwordFile]) chownSync(file, this.user.uid, this.user.gid);
    this.asServer("initdb", ["-D", this.data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${passwordFile}`, "--no-sync", "--encoding=UTF8", "--locale=C"]);
    this.asServer("pg_ctl", ["-D", this.data, "-w", "-s", "-l", path.join(this.root, "server.log"), "-o", `-k ${this.socketDir} -c listen_addresses= -p ${this.port} -c fsync=off`, "start"]);
  }

  private asServer(tool: string, args: string[]): void {
    const command = this.user ? ["runuser", ["-u", this.user.name, "--", path.join(this.bindir, tool), ...args]] : [path.join(this.bindir, tool), args];
    const result = spawnSync(command[0] as string, command[1] as string[], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr || result.stdout}`);
  }

  /** psql against the server as `user`, with extra environment; never throws. */
  psql(user: string, password: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
    return spawnSync(path.join(this.bindir, "psql"), ["--no-psqlrc", "--quiet", "--tuples-only", "--no-align", ...args], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, PGHOST: this.socketDir, PGPORT: String(this.port), PGDATABASE: "postgres", ...env, PGUSER: user, PGPASSWORD: password },
    });
  }

  /** One SQL statement as the superuser; its output, trimmed. */
  superuser(sql: string, database = "postgres"): string {
    const result = this.psql("postgres", this.superuserPassword, ["--set=ON_ERROR_STOP=1", "--dbname", database, "--command", sql]);
    if (result.status !== 0) throw new Error(`${sql}: ${result.stderr}`);
    return result.stdout.trim();
  }

  stop(): void {
    try {
      this.asServer("pg_ctl", ["-D", this.data, "-w", "-s", "-m", "immediate", "stop"]);
    } finally {
      rmSync(this.root, { recursive: true, force: true });
    }
  }
}
