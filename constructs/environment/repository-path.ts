/**
 * A directory of the Git repository as Flux expects it: relative to the
 * repository root and starting with `./`, whether or not the config wrote it so.
 */
export function repositoryPath(path: string): string {
  return path.startsWith("./") ? path : `./${path}`;
}
