/**
 * Linux-only calls: epoll, eventfd, pipe2. Opened lazily, and only on Linux.
 *
 * @module
 */
import { LIBC_PATH } from "../unix/libc.ts";

const SYMBOLS = {
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  epoll_wait_async: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
} as const;

/** The raw Linux symbols. */
export type LinuxSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: LinuxSymbols | undefined;

/** The Linux symbols, opened on first use; throws `NotSupported` elsewhere. */
export function linux(): LinuxSymbols {
  if (lib === undefined) {
    if (Deno.build.os !== "linux") {
      throw new Deno.errors.NotSupported(
        `epoll and eventfd are Linux calls; this is ${Deno.build.os}: use KqueueSelector, PollSelector or DefaultSelector`,
      );
    }
    lib = Deno.dlopen(LIBC_PATH, SYMBOLS).symbols;
  }
  return lib;
}

/** `eventfd` flags. */
export const EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
/** `O_CLOEXEC` and `O_NONBLOCK` for `pipe2` on Linux. */
export const O_CLOEXEC = 0x80000, O_NONBLOCK_LINUX = 0x800;
