/**
 * A stand-in for the `kqueue`/`kevent` symbols, built on Linux `poll`, so
 * that KqueueSelector runs on this machine. It reads and writes real
 * `struct kevent` bytes, applies EV_ADD/EV_DELETE with kqueue's errors, drops
 * the filters of a closed fd as kqueue does, and reports level-triggered
 * EVFILT_READ/EVFILT_WRITE events with EV_EOF on hang-up.
 *
 * EVFILT_PROC (NOTE_EXIT, NOTE_EXITSTATUS, EV_ONESHOT) is emulated with a
 * pidfd per watched pid. So that a kqueue fd is readable while a process
 * event is pending, as a real one is (a child watcher puts it in a loop's
 * selector), the emulated kqueue fd is an epoll fd holding those pidfds
 * and the eventfd that signals changes to an off-thread wait.
 * EVFILT_READ/EVFILT_WRITE filters do not make it readable.
 */
import {
  decodeKevent,
  encodeKevent,
  EV_ADD,
  EV_DELETE,
  EV_EOF,
  EV_ERROR,
  EV_ONESHOT,
  EVFILT_PROC,
  EVFILT_READ,
  EVFILT_WRITE,
  KEVENT_SIZE,
  NOTE_EXIT,
} from "../ffi/darwin/kevent.ts";
import { NOTE_EXITSTATUS } from "../ffi/darwin/proc_exit.ts";
import { pidfdOpen } from "../ffi/linux/pidfd.ts";
import {
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_EVENT_SIZE,
  EPOLLIN,
  setEpollEvent,
} from "../ffi/linux/epoll_event.ts";
import type { KqueueApi } from "../ffi/darwin/sys.ts";
import { E } from "../ffi/unix/errno.ts";
import { closeFd, errno, isOpenFd, libc } from "../ffi/unix/libc.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK, linux } from "../ffi/linux/sys.ts";
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
  /** EVFILT_PROC only: the pidfd of `ident`, its flags and fflags. */
  pidfd?: number;
  flags?: number;
  fflags?: number;
}

/** One emulated kqueue: its filters and the eventfd that interrupts an off-thread wait. */
interface Queue {
  filters: Map<string, Filter>;
  changeFd: number;
}

// waitid(P_PIDFD, fd, WEXITED | WNOHANG | WNOWAIT): a process's exit status, without reaping it.
let waitidLib:
  | Deno.DynamicLibrary<{ waitid: { parameters: ["i32", "i32", "buffer", "i32"]; result: "i32" } }>
  | undefined;
const P_PIDFD = 3, WEXITED = 4, WNOHANG = 1, WNOWAIT = 0x01000000;
const CLD_EXITED = 1;

/** The wait status of the exited process behind `pidfd` (as NOTE_EXITSTATUS reports it). */
function peekExitStatus(pidfd: number): number {
  waitidLib ??= Deno.dlopen("libc.so.6", {
    waitid: { parameters: ["i32", "i32", "buffer", "i32"], result: "i32" },
  });
  const info = new Uint8Array(128);
  if (waitidLib.symbols.waitid(P_PIDFD, pidfd, info, WEXITED | WNOHANG | WNOWAIT) < 0) return 0;
  const v = new DataView(info.buffer);
  const code = v.getInt32(8, true), status = v.getInt32(24, true);
  return code === CLD_EXITED ? (status & 0xff) << 8 : status & 0x7f;
}

function epollCtl(epfd: number, op: number, fd: number): number {
  const ev = new Uint8Array(EPOLL_EVENT_SIZE);
  setEpollEvent(new DataView(ev.buffer), 0, EPOLLIN, fd);
  return linux().epoll_ctl(epfd, op, fd, ev);
}

/** The emulation, with counters the tests can look at. */
export class KqueueEmulation implements KqueueApi {
  #queues = new Map<number, Queue>();
  // kqueues with an off-thread wait in flight: a change interrupts it, as a
  // real kqueue sees registrations at once.
  #inflight = new Set<number>();
  #one = new BigUint64Array([1n]);
  #sink = new BigUint64Array(1);
  #errno = 0;
  /** How many kevent calls were made, sync and async. */
  calls = 0;

  kqueue(): number {
    const fd = linux().epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) {
      this.#errno = errno();
      return -1;
    }
    const changeFd = linux().eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (changeFd < 0 || epollCtl(fd, EPOLL_CTL_ADD, changeFd) < 0) {
      this.#errno = errno();
      if (changeFd >= 0) closeFd(changeFd);
      closeFd(fd);
      return -1;
    }
    this.#queues.set(fd, { filters: new Map(), changeFd });
    return fd;
  }

  errno(): number {
    return this.#errno;
  }

  close(fd: number): number {
    const queue = this.#queues.get(fd);
    if (queue === undefined) {
      this.#errno = E.EBADF;
      return -1;
    }
    this.#queues.delete(fd);
    for (const f of queue.filters.values()) if (f.pidfd !== undefined) closeFd(f.pidfd);
    closeFd(queue.changeFd);
    closeFd(fd);
    return 0;
  }

  #dropProc(kq: number, q: Map<string, Filter>, f: Filter): void {
    q.delete(`${f.ident}:${EVFILT_PROC}`);
    epollCtl(kq, EPOLL_CTL_DEL, f.pidfd!);
    closeFd(f.pidfd!);
  }

  #applyProc(kq: number, q: Map<string, Filter>, ev: ReturnType<typeof decodeKevent>): number {
    const id = `${ev.ident}:${EVFILT_PROC}`;
    const old = q.get(id);
    if (ev.flags & EV_ADD) {
      if (old !== undefined) {
        old.flags = ev.flags;
        old.fflags = ev.fflags;
        old.udata = ev.udata;
        return 0;
      }
      let pidfd: number;
      try {
        pidfd = pidfdOpen(ev.ident);
      } catch (e) {
        return (e as { errno?: number }).errno ?? E.ESRCH; // ESRCH: no such process
      }
      epollCtl(kq, EPOLL_CTL_ADD, pidfd);
      q.set(id, {
        ident: ev.ident,
        filter: EVFILT_PROC,
        udata: ev.udata,
        pidfd,
        flags: ev.flags,
        fflags: ev.fflags,
      });
    } else if (ev.flags & EV_DELETE) {
      if (old === undefined) return E.ENOENT;
      this.#dropProc(kq, q, old);
    }
    return 0;
  }

  #apply(kq: number, q: Map<string, Filter>, changes: Uint8Array | null, nchanges: number): number {
    if (nchanges === 0 || changes === null) return 0;
    if (changes.byteLength < nchanges * KEVENT_SIZE) return E.EFAULT;
    const view = new DataView(changes.buffer, changes.byteOffset, changes.byteLength);
    for (let i = 0; i < nchanges; i++) {
      const ev = decodeKevent(view, i);
      if (ev.filter === EVFILT_PROC) {
        const err = this.#applyProc(kq, q, ev);
        if (err !== 0) return err;
        continue;
      }
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

  // The poll set: the fds of the read/write filters, then one pidfd per EVFILT_PROC filter,
  // then `extraFd`. `idents` counts only the first part; `procs` the second.
  #prepare(
    q: Map<string, Filter>,
    extraFd = -1,
  ): { buf: Uint8Array; idents: number[]; procs: Filter[]; count: number } {
    const want = new Map<number, number>();
    const procs: Filter[] = [];
    for (const f of q.values()) {
      if (f.filter === EVFILT_PROC) {
        procs.push(f);
        continue;
      }
      want.set(f.ident, (want.get(f.ident) ?? 0) | (f.filter === EVFILT_READ ? POLLIN : POLLOUT));
    }
    const count = want.size + procs.length;
    const buf = new Uint8Array(new ArrayBuffer((count + 1) * POLLFD_SIZE));
    const view = new DataView(buf.buffer);
    const idents = [...want.keys()];
    idents.forEach((fd, i) => setPollfd(view, i, fd, want.get(fd)!));
    procs.forEach((f, i) => setPollfd(view, idents.length + i, f.pidfd!, POLLIN));
    if (extraFd >= 0) setPollfd(view, count, extraFd, POLLIN);
    return { buf, idents, procs, count };
  }

  #report(
    kq: number,
    q: Map<string, Filter>,
    polled: { buf: Uint8Array; idents: number[]; procs: Filter[] },
    events: Uint8Array,
    nevents: number,
  ): number {
    const pv = new DataView(polled.buf.buffer);
    const out = new DataView(events.buffer, events.byteOffset, events.byteLength);
    let n = 0;
    polled.procs.forEach((f, i) => {
      if (n >= nevents || q.get(`${f.ident}:${EVFILT_PROC}`) !== f) return;
      if ((pollfdRevents(pv, polled.idents.length + i) & POLLIN) === 0) return;
      if ((f.fflags! & NOTE_EXIT) === 0) return;
      const withStatus = (f.fflags! & NOTE_EXITSTATUS) !== 0;
      encodeKevent(out, n++, {
        ident: f.ident,
        filter: EVFILT_PROC,
        flags: f.flags! | EV_EOF,
        fflags: NOTE_EXIT | (withStatus ? NOTE_EXITSTATUS : 0),
        data: withStatus ? peekExitStatus(f.pidfd!) : 0,
        udata: f.udata,
      });
      if (f.flags! & EV_ONESHOT) this.#dropProc(kq, q, f);
    });
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
    const queue = this.#queues.get(kq);
    if (queue === undefined) return E.EBADF;
    const q = queue.filters;
    if (events !== null && events.byteLength < nevents * KEVENT_SIZE) return E.EFAULT;
    const err = this.#apply(kq, q, changes, nchanges);
    if (nchanges > 0 && this.#inflight.has(kq)) {
      libc().write(queue.changeFd, new Uint8Array(this.#one.buffer), 8n);
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
    const r = libc().poll(polled.buf, polled.count, KqueueEmulation.#ms(timeout));
    if (r < 0) {
      this.#errno = errno();
      return -1;
    }
    return this.#report(kq, q, polled, events, nevents);
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
        // The kq's change eventfd sits in the last slot: it signals a change.
        const changeFd = this.#queues.get(kq)?.changeFd ?? -1;
        const polled = this.#prepare(q, changeFd);
        const left = ms < 0 ? -1 : Math.max(0, Math.ceil(deadline - performance.now()));
        const r = await libc().poll_async(polled.buf, polled.count + 1, left);
        if (r < 0) return -1;
        const changed = pollfdRevents(new DataView(polled.buf.buffer), polled.count) !== 0;
        if (changed && this.#queues.has(kq)) {
          libc().read(changeFd, new Uint8Array(this.#sink.buffer), 8n);
        }
        const n = this.#report(kq, q, polled, events, nevents);
        if (n > 0 || !changed || left === 0 || !this.#queues.has(kq)) return n;
      }
    } finally {
      this.#inflight.delete(kq);
    }
  }
}
