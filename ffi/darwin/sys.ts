/**
 * kqueue and kevent (macOS, FreeBSD), behind an interface so that tests on
 * Linux can put an emulation where the real symbols would be.
 *
 * @module
 */
import { LIBC_PATH } from "../unix/libc.ts";

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

let api: KqueueApi | undefined;

/** Whether this OS has kqueue. */
export const HAS_KQUEUE: boolean = Deno.build.os === "darwin" || Deno.build.os === "freebsd";

/** The system's kqueue calls; throws `NotSupported` where there is no kqueue. */
export function systemKqueue(): KqueueApi {
  if (api === undefined) {
    if (!HAS_KQUEUE) {
      throw new Deno.errors.NotSupported(
        `kqueue is not available on ${Deno.build.os}: use EpollSelector, PollSelector or DefaultSelector`,
      );
    }
    const s = Deno.dlopen(LIBC_PATH, SYMBOLS).symbols;
    const p = s.__error();
    if (p === null) throw new Error("errno location is null");
    const errnoView = new Deno.UnsafePointerView(p);
    api = {
      kqueue: () => s.kqueue(),
      kevent: (kq, ch, nch, ev, nev, ts) => s.kevent(kq, ch, nch, ev, nev, ts),
      keventAsync: (kq, ch, nch, ev, nev, ts) => s.kevent_async(kq, ch, nch, ev, nev, ts),
      errno: () => errnoView.getInt32(0),
      close: (fd) => s.close(fd),
    };
  }
  return api;
}
