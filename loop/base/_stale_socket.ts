/**
 * Removing a stale unix socket file before a bind, as asyncio does for unix
 * stream servers and datagram endpoints (decision T8).
 *
 * @module
 */
import type { ExceptionContext } from "../abstract_event_loop.ts";

/**
 * Removes a stale socket file at `path` before binding: only a socket
 * (`lstat`, so never a regular file or a symlink's target). It needs
 * `--allow-read` and `--allow-write` for the path; they are queried, never
 * prompted for, and without them, as on any failure but "not found", the
 * problem is reported through the exception handler (asyncio logs it and
 * goes on: the directory may only let us create the socket) and the file
 * is left, so the bind then fails with `AddrInUse`. Unnamed paths and
 * Linux abstract names (a leading NUL) have no file.
 */
export function removeStaleSocket(
  loop: { callExceptionHandler(context: ExceptionContext): void },
  path: string,
): void {
  if (path === "" || path[0] === "\0") return;
  try {
    for (const name of ["read", "write"] as const) {
      if (Deno.permissions.querySync({ name, path }).state !== "granted") {
        throw new Deno.errors.PermissionDenied(`--allow-${name} is not granted for the path`);
      }
    }
    if (Deno.lstatSync(path).isSocket) Deno.removeSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    loop.callExceptionHandler({
      message: `Unable to check or remove stale UNIX socket ${JSON.stringify(path)}`,
      exception: e,
    });
  }
}
