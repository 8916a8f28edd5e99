/**
 * Linux-only calls: epoll and eventfd. Opened lazily, and only on Linux.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { ABI, HAS_EPOLL, LIBC_PATH, OS } from "../unix/_abi.ts";

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
} as const;

/** The raw Linux symbols. */
export type LinuxSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** The Linux symbols, opened on first use; throws `NotSupported` elsewhere. */
export const linux: () => LinuxSymbols = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: HAS_EPOLL,
  unsupported:
    `epoll and eventfd are Linux calls; this is ${OS}: use KqueueSelector, PollSelector or DefaultSelector`,
});

/** `eventfd` flags (`O_CLOEXEC` and `O_NONBLOCK` of Linux). */
export const EFD_CLOEXEC: number = ABI.O_CLOEXEC, EFD_NONBLOCK: number = ABI.O_NONBLOCK;
