/**
 * A stand-in for the `kqueue`/`kevent` symbols, built on Linux `poll`, so
 * that KqueueSelector runs on this machine. It reads and writes real
 * `struct kevent` bytes, applies EV_ADD/EV_DELETE with kqueue's errors, drops
 * the filters of a closed fd as kqueue does, and reports level-triggered
 * EVFILT_READ/EVFILT_WRITE events with EV_EOF on hang-up.
 */
import {
  decodeKevent,
  encodeKevent,
  EV_ADD,
  EV_DELETE,
  EV_EOF,
  EV_ERROR,
  EVFILT_READ,
  EVFILT_WRITE,
  KEVENT_SIZE,
} from "../ffi/darwin/kevent.ts";
import type { KqueueApi } from "../ffi/darwin/sys.ts";
import { E } from "../ffi/unix/errno.ts";
import { closeFd, errno, isOpenFd, libc } from "../ffi/unix/libc.ts";
import { EFD_CLOEXEC, linux } from "../ffi/linux/sys.ts";
import {
  POLLERR,
  POLLFD_SIZE,
  pollfdRevents,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  setPollfd,
} from "../ffi/unix/pollfd.ts";
import { readTimespec } from "../ffi/unix/time.ts";

interface Filter {
  ident: number;
  filter: number;
  udata: bigint;
}

/** The emulation, with counters the tests can look at. */
export class KqueueEmulation implements KqueueApi {
  #queues = new Map<number, Map<string, Filter>>();
  // kqueues with an off-thread wait in flight: a change interrupts it, as a
  // real kqueue sees registrations at once.
  #inflight = new Set<number>();
  #one = new BigUint64Array([1n]);
  #sink = new BigUint64Array(1);
  #errno = 0;
  /** How many kevent calls were made, sync and async. */
  calls = 0;

  kqueue(): number {
    const fd = linux().eventfd(0, EFD_CLOEXEC);
    if (fd < 0) {
      this.#errno = errno();
      return -1;
    }
    this.#queues.set(fd, new Map());
    return fd;
  }

  errno(): number {
    return this.#errno;
  }

  close(fd: number): number {
    if (!this.#queues.delete(fd)) {
      this.#errno = E.EBADF;
      return -1;
    }
    closeFd(fd);
    return 0;
  }

  #apply(q: Map<string, Filter>, changes: Uint8Array | null, nchanges: number): number {
    if (nchanges === 0 || changes === null) return 0;
    if (changes.byteLength < nchanges * KEVENT_SIZE) return E.EFAULT;
    const view = new DataView(changes.buffer, changes.byteOffset, changes.byteLength);
    for (let i = 0; i < nchanges; i++) {
      const ev = decodeKevent(view, i);
      if (ev.filter !== EVFILT_READ && ev.filter !== EVFILT_WRITE) return E.EINVAL;
      const id = `${ev.ident}:${ev.filter}`;
      if (ev.flags & EV_ADD) {
        if (!isOpenFd(ev.ident)) return E.EBADF;
        q.set(id, { ident: ev.ident, filter: ev.filter, udata: ev.udata });
      } else if (ev.flags & EV_DELETE) {
        if (!isOpenFd(ev.ident)) return E.EBADF;
        if (!q.delete(id)) return E.ENOENT;
      }
    }
    return 0;
  }

  #prepare(q: Map<string, Filter>, extraFd = -1): { buf: Uint8Array; idents: number[] } {
    const want = new Map<number, number>();
    for (const f of q.values()) {
      want.set(f.ident, (want.get(f.ident) ?? 0) | (f.filter === EVFILT_READ ? POLLIN : POLLOUT));
    }
    const buf = new Uint8Array(new ArrayBuffer((want.size + 1) * POLLFD_SIZE));
    const view = new DataView(buf.buffer);
    const idents = [...want.keys()];
    idents.forEach((fd, i) => setPollfd(view, i, fd, want.get(fd)!));
    if (extraFd >= 0) setPollfd(view, idents.length, extraFd, POLLIN);
    return { buf, idents };
  }

  #report(
    q: Map<string, Filter>,
    polled: { buf: Uint8Array; idents: number[] },
    events: Uint8Array,
    nevents: number,
  ): number {
    const pv = new DataView(polled.buf.buffer);
    const out = new DataView(events.buffer, events.byteOffset, events.byteLength);
    let n = 0;
    polled.idents.forEach((fd, i) => {
      const rev = pollfdRevents(pv, i);
      if (rev & POLLNVAL) {
        // kqueue forgets the filters of a closed fd.
        q.delete(`${fd}:${EVFILT_READ}`);
        q.delete(`${fd}:${EVFILT_WRITE}`);
        return;
      }
      const eof = rev & (POLLHUP | POLLERR) ? EV_EOF : 0;
      for (const [filter, bits] of [[EVFILT_READ, POLLIN], [EVFILT_WRITE, POLLOUT]]) {
        const f = q.get(`${fd}:${filter}`);
        if (f === undefined || n >= nevents) continue;
        if (rev & (bits | POLLHUP | POLLERR)) {
          encodeKevent(out, n++, {
            ident: fd,
            filter,
            flags: EV_ADD | eof,
            fflags: 0,
            data: 0,
            udata: f.udata,
          });
        }
      }
    });
    return n;
  }

  #begin(
    kq: number,
    changes: Uint8Array | null,
    nchanges: number,
    events: Uint8Array | null,
    nevents: number,
  ): Map<string, Filter> | number {
    this.calls++;
    const q = this.#queues.get(kq);
    if (q === undefined) return E.EBADF;
    if (events !== null && events.byteLength < nevents * KEVENT_SIZE) return E.EFAULT;
    const err = this.#apply(q, changes, nchanges);
    if (nchanges > 0 && this.#inflight.has(kq)) {
      libc().write(kq, new Uint8Array(this.#one.buffer), 8);
    }
    if (err !== 0) {
      if (events !== null && nevents > 0) {
        // kqueue reports a change's failure as an EV_ERROR event when there is room.
        encodeKevent(new DataView(events.buffer, events.byteOffset), 0, {
          ident: 0,
          filter: 0,
          flags: EV_ERROR,
          fflags: 0,
          data: err,
          udata: 0n,
        });
      }
      return err;
    }
    return q;
  }

  static #ms(timeout: Uint8Array | null): number {
    if (timeout === null) return -1;
    return Math.ceil(readTimespec(new DataView(timeout.buffer, timeout.byteOffset)));
  }

  kevent(
    kq: number,
    changes: Uint8Array | null,
    nchanges: number,
    events: Uint8Array | null,
    nevents: number,
    timeout: Uint8Array | null,
  ): number {
    const q = this.#begin(kq, changes, nchanges, events, nevents);
    if (typeof q === "number") {
      if (events !== null && nevents > 0 && q !== E.EFAULT && q !== E.EBADF) return 1;
      this.#errno = q;
      return -1;
    }
    if (events === null || nevents === 0) return 0;
    const polled = this.#prepare(q);
    const r = libc().poll(polled.buf, polled.idents.length, KqueueEmulation.#ms(timeout));
    if (r < 0) {
      this.#errno = errno();
      return -1;
    }
    return this.#report(q, polled, events, nevents);
  }

  async keventAsync(
    kq: number,
    changes: Uint8Array | null,
    nchanges: number,
    events: Uint8Array | null,
    nevents: number,
    timeout: Uint8Array | null,
  ): Promise<number> {
    const q = this.#begin(kq, changes, nchanges, events, nevents);
    if (typeof q === "number") return -1;
    if (events === null || nevents === 0) return 0;
    const ms = KqueueEmulation.#ms(timeout);
    const deadline = performance.now() + ms;
    this.#inflight.add(kq);
    try {
      for (;;) {
        // The kq's own eventfd sits in the last slot: it signals a change.
        const polled = this.#prepare(q, kq);
        const left = ms < 0 ? -1 : Math.max(0, Math.ceil(deadline - performance.now()));
        const r = await libc().poll_async(polled.buf, polled.idents.length + 1, left);
        if (r < 0) return -1;
        const changed = pollfdRevents(new DataView(polled.buf.buffer), polled.idents.length) !== 0;
        if (changed) libc().read(kq, new Uint8Array(this.#sink.buffer), 8);
        const n = this.#report(q, polled, events, nevents);
        if (n > 0 || !changed || left === 0 || !this.#queues.has(kq)) return n;
      }
    } finally {
      this.#inflight.delete(kq);
    }
  }
}
