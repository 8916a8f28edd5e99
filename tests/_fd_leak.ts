/**
 * Finds this process's open fds with `fcntl(F_GETFD)` (Deno refuses to
 * read /proc/self/fd without --allow-all), to check that loops and
 * selectors release what they open. On Windows: the SOCKETs this package
 * made and has not closed (`openSockets()` of `ffi/windows/socket.ts`;
 * walking the handle table would query pipe handles, which Wine does not
 * survive, and `GetProcessHandleCount` reads 0 under Wine).
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { isOpenFd } from "../ffi/unix/libc.ts";
import { openSockets } from "../ffi/windows/socket.ts";
import { lookupsSettled } from "../net/getaddrinfo.ts";
import { selectorsSettled } from "../selectors/base_selector.ts";

const SCAN_LIMIT = 4096;

/** The open fds of this process below 4096 (on Windows: the SOCKETs this package made). */
export function openFds(): Set<number> {
  if (Deno.build.os === "windows") return new Set(openSockets());
  const fds = new Set<number>();
  for (let fd = 0; fd < SCAN_LIMIT; fd++) if (isOpenFd(fd)) fds.add(fd);
  return fds;
}

/** The number of open fds of this process (below 4096). */
export function countFds(): number {
  return openFds().size;
}

/**
 * Runs `fn` and asserts the fd count is the same after it as before (once
 * any resolver call it abandoned has returned: the resolver's own fds).
 */
export async function assertNoFdLeak(fn: () => unknown): Promise<void> {
  const before = countFds();
  await fn();
  await lookupsSettled();
  await selectorsSettled(); // a selector closed while its last wait was returning
  assertEquals(countFds(), before, "fd count changed: a loop or selector leaked an fd");
}

/** Runs `open()` and returns the one fd it made (found by comparing the open fds). */
export function fdOpenedBy(open: () => unknown): number {
  const before = openFds();
  open();
  const added = [...openFds()].filter((fd) => !before.has(fd));
  if (added.length !== 1) throw new Error(`expected one new fd, found ${added.length}`);
  return added[0];
}
