/**
 * kqueue and kevent (macOS, FreeBSD), behind an interface so that tests on
 * Linux can put an emulation where the real symbols would be.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { HAS_KQUEUE, LIBC_PATH, OS } from "../unix/_abi.ts";

export { HAS_KQUEUE };

/** The kqueue calls a KqueueSelector needs; the real ones, or a stand-in. */
export interface KqueueApi {
  /** `kqueue()`: a new kqueue fd, or -1 with errno set. */
  kqueue(): number;
  /** `kevent()`, synchronous; `timeout` is a `struct timespec` or null to block. */
  kevent(
    kq: number,
    changes: Uint8Array | null,
    nchanges: number,
    events: Uint8Array | null,
    nevents: number,
    timeout: Uint8Array | null,
  ): number;
  /** `kevent()` off the JS thread; errno is not reliable after it. */
  keventAsync(
    kq: number,
    changes: Uint8Array | null,
    nchanges: number,
    events: Uint8Array | null,
    nevents: number,
    timeout: Uint8Array | null,
  ): Promise<number>;
  /** The errno of the last synchronous call. */
  errno(): number;
  /** `close()` for the kqueue fd. */
  close(fd: number): number;
}

const SYMBOLS = {
  kqueue: { parameters: [], result: "i32" },
  kevent: {
    parameters: ["i32", "buffer", "i32", "buffer", "i32", "buffer"],
    result: "i32",
  },
  kevent_async: {
    name: "kevent",
    parameters: ["i32", "buffer", "i32", "buffer", "i32", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  close: { parameters: ["i32"], result: "i32" },
  __error: { parameters: [], result: "pointer" },
} as const;

const symbols = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: HAS_KQUEUE,
  unsupported:
    `kqueue is not available on ${OS}: use EpollSelector, PollSelector or DefaultSelector`,
});

let api: KqueueApi | undefined;

/**
 * The system's kqueue calls; throws `NotSupported` where there is no kqueue.
 * `kqueue`, `kevent`, `keventAsync` and `close` are Deno's symbol functions
 * themselves (no JavaScript wrapper on the hot path).
 */
export function systemKqueue(): KqueueApi {
  if (api === undefined) {
    const s = symbols();
    const p = s.__error();
    if (p === null) throw new Error("errno location is null");
    const errnoView = new Deno.UnsafePointerView(p);
    api = {
      kqueue: s.kqueue,
      kevent: s.kevent,
      keventAsync: s.kevent_async,
      errno: () => errnoView.getInt32(0),
      close: s.close,
    };
  }
  return api;
}
