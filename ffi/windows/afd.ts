/**
 * The pointer-level half of AFD polling (`IOCTL_AFD_POLL` on `\Device\Afd`,
 * as mio, wepoll and libuv get socket readiness on Windows): helper handles
 * opened with `NtCreateFile` and associated with a {@linkcode CompletionPort}
 * under {@linkcode KEY_AFD}, the off-heap poll slots (a 16-byte
 * IO_STATUS_BLOCK, then a 32-byte AFD_POLL_INFO for one socket), submitting a
 * poll (`NtDeviceIoControlFile`, the slot being both the APC context, so the
 * packet's lpOverlapped, and the IO_STATUS_BLOCK), cancelling it
 * (`NtCancelIoFileEx`) and reading a completed slot.
 *
 * Nothing outside `ffi/` sees a pointer: a slot is an {@linkcode AfdSlot}
 * object, a socket its SOCKET number. A slot whose poll is pending is never
 * freed: the kernel writes its IO_STATUS_BLOCK and AFD_POLL_INFO when the
 * poll completes, so a slot goes back to the pool only after its packet was
 * dequeued (or when the submitting call failed, and no packet comes).
 *
 * @module
 */
import { IS_WINDOWS, kernel32 } from "./kernel32.ts";
import { ntdll } from "./ntdll.ts";
import { osError } from "./socket.ts";
import { wideString } from "./structs.ts";
import { type CompletionPort, KEY_AFD } from "./iocp.ts";
import { WS, ws2_32 } from "./ws2_32.ts";

export { KEY_AFD };

/**
 * The AFD poll event bits (`AFD_POLL_*`), as `AFD_POLL_HANDLE_INFO.Events`
 * carries them in and out.
 *
 * @example
 * ```ts
 * import { AFD_POLL } from "./afd.ts";
 * console.log(AFD_POLL.RECEIVE | AFD_POLL.ACCEPT); // 129
 * ```
 */
export const AFD_POLL: Readonly<{
  RECEIVE: number;
  RECEIVE_EXPEDITED: number;
  SEND: number;
  DISCONNECT: number;
  ABORT: number;
  LOCAL_CLOSE: number;
  CONNECT: number;
  ACCEPT: number;
  CONNECT_FAIL: number;
}> = Object.freeze({
  /** Data to read. */
  RECEIVE: 0x0001,
  /** Out-of-band data to read. */
  RECEIVE_EXPEDITED: 0x0002,
  /** Room to send (also: a connect completed). */
  SEND: 0x0004,
  /** The peer shut its sending side down (a graceful close). */
  DISCONNECT: 0x0008,
  /** The connection was reset or aborted. */
  ABORT: 0x0010,
  /** The socket was closed by this process (the poll ends with it). */
  LOCAL_CLOSE: 0x0020,
  /** Fires on every socket: never asked for (mio, wepoll). */
  CONNECT: 0x0040,
  /** A connection to accept. */
  ACCEPT: 0x0080,
  /** A connect failed. */
  CONNECT_FAIL: 0x0100,
});

/**
 * What a reader is woken for: data, a connection to accept, the peer's
 * shutdown, a reset, a failed connect (asyncio's readable also covers them).
 */
export const AFD_READ_EVENTS: number = AFD_POLL.RECEIVE | AFD_POLL.ACCEPT | AFD_POLL.DISCONNECT |
  AFD_POLL.ABORT | AFD_POLL.CONNECT_FAIL;
/** What a writer is woken for: room to send (or a finished connect), a failed connect, a reset. */
export const AFD_WRITE_EVENTS: number = AFD_POLL.SEND | AFD_POLL.CONNECT_FAIL | AFD_POLL.ABORT;

/** `CTL_CODE(FILE_DEVICE_NETWORK, 9, METHOD_BUFFERED, FILE_ANY_ACCESS)`. */
export const IOCTL_AFD_POLL = 0x0001_2024;

const STATUS_SUCCESS = 0;
const STATUS_PENDING = 0x103;
/** NTSTATUS of a poll that was cancelled (`NtCancelIoFileEx`, or its helper handle closed). */
export const STATUS_CANCELLED = 0xC000_0120;
/** NTSTATUS of a poll submitted for a socket that is no longer open. */
export const STATUS_INVALID_HANDLE = 0xC000_0008;

const SYNCHRONIZE = 0x0010_0000;
const FILE_SHARE_READ_WRITE = 3;
const FILE_OPEN = 1;
const OBJ_CASE_INSENSITIVE = 0x40;
const FILE_SKIP_SET_EVENT_ON_HANDLE = 2;
const HEAP_ZERO_MEMORY = 8;
const WSAENOTSOCK = 10038;
const WSAEOPNOTSUPP = 10045;
const ERROR_INVALID_FUNCTION = 1;

/**
 * The layout of one poll slot, in bytes: the IO_STATUS_BLOCK (the packet's
 * lpOverlapped), then AFD_POLL_INFO with one AFD_POLL_HANDLE_INFO.
 *
 * @example
 * ```ts
 * import { AFD_SLOT } from "./afd.ts";
 * console.log(AFD_SLOT.info, AFD_SLOT.SIZE); // 16 48
 * ```
 */
export const AFD_SLOT: Readonly<{
  status: number;
  information: number;
  info: number;
  timeout: number;
  handles: number;
  exclusive: number;
  handle: number;
  events: number;
  handleStatus: number;
  INFO_SIZE: number;
  SIZE: number;
}> = Object.freeze({
  /** IO_STATUS_BLOCK.Status (NTSTATUS in the low 4 bytes of 8). */
  status: 0,
  /** IO_STATUS_BLOCK.Information. */
  information: 8,
  /** AFD_POLL_INFO. */
  info: 16,
  /** AFD_POLL_INFO.Timeout (i64, INT64_MAX: forever). */
  timeout: 16,
  /** AFD_POLL_INFO.NumberOfHandles (u32). */
  handles: 24,
  /** AFD_POLL_INFO.Exclusive (u32). */
  exclusive: 28,
  /** Handles[0].Handle (the base SOCKET). */
  handle: 32,
  /** Handles[0].Events (u32). */
  events: 40,
  /** Handles[0].Status (NTSTATUS). */
  handleStatus: 44,
  /** AFD_POLL_INFO's size for one handle. */
  INFO_SIZE: 32,
  /** The slot's size. */
  SIZE: 48,
});

/** Sockets per helper handle (mio and wepoll: 32; cancelling costs grow with the group). */
export const SOCKETS_PER_HELPER = 32;
const SLOTS_PER_SLAB = SOCKETS_PER_HELPER;

let helpersOpen = 0;
let slotsInUse = 0;
let helperSeq = 0;

/**
 * Live counters of this process's AFD resources, for leak checks: helper
 * handles open, and poll slots in use (each registered socket holds one,
 * and keeps it until its last poll's packet came).
 *
 * @example
 * ```ts
 * import { afdCounters } from "./afd.ts";
 * console.log(afdCounters()); // { helpers: 0, slots: 0 }
 * ```
 */
export function afdCounters(): { helpers: number; slots: number } {
  return { helpers: helpersOpen, slots: slotsInUse };
}

const ptrOf = (v: bigint): Deno.PointerValue => Deno.UnsafePointer.create(v);
const baseOut = new BigUint64Array(1);
const bytesOut = new Uint32Array(1);

/**
 * The base provider's SOCKET under `fd` (`WSAIoctl(SIO_BASE_HANDLE)`, then
 * `SIO_BSP_HANDLE_POLL` when a layered provider refuses it, as wepoll and
 * mio do): AFD polls the base socket. A handle that is not a socket
 * (WSAENOTSOCK) throws `Deno.errors.NotSupported` saying that AFD polls
 * sockets only; a closed one `BadResource`.
 *
 * @example
 * ```ts ignore
 * const base = baseSocket(sock.fileno()); // usually the same number
 * ```
 */
export function baseSocket(fd: number): number {
  if (!Number.isSafeInteger(fd) || fd <= 0) throw new RangeError(`bad SOCKET ${fd}`);
  const w = ws2_32();
  let err = 0;
  for (const code of [WS.SIO_BASE_HANDLE, WS.SIO_BSP_HANDLE_POLL]) {
    baseOut[0] = 0n;
    const rc = w.WSAIoctl(
      BigInt(fd),
      code,
      null,
      0,
      new Uint8Array(baseOut.buffer),
      8,
      new Uint8Array(bytesOut.buffer),
      null,
      null,
    );
    if (rc === 0 && baseOut[0] !== 0n && baseOut[0] !== WS.INVALID_SOCKET) {
      return Number(baseOut[0]);
    }
    err = rc === 0 ? ERROR_INVALID_FUNCTION : w.WSAGetLastError();
    if (err === WSAENOTSOCK) break;
  }
  // Wine answers WSAEOPNOTSUPP, not WSAENOTSOCK, for a pipe handle (checked under Wine 10).
  if (err === WSAENOTSOCK || err === WSAEOPNOTSUPP) {
    throw new Deno.errors.NotSupported(
      `handle ${fd} is not a socket (WSAIoctl(SIO_BASE_HANDLE): error ${err}): AFD polling ` +
        `(IOCTL_AFD_POLL) watches sockets only`,
    );
  }
  throw osError(err, "WSAIoctl", `SIO_BASE_HANDLE of socket ${fd}`);
}

/** A slab of off-heap slots and the helper handle its slots poll through. */
interface Helper {
  handle: NonNullable<Deno.PointerValue>;
  slab: NonNullable<Deno.PointerValue>;
  slabAddr: bigint;
  bytes: Uint8Array<ArrayBuffer>;
  free: number[];
  used: number;
}

/**
 * One socket's poll slot: where its poll's IO_STATUS_BLOCK and
 * AFD_POLL_INFO live. Made by {@linkcode AfdDevice.take}; its results
 * (`status`, `events`) are those of its last completed poll.
 *
 * @example
 * ```ts ignore
 * const slot = device.take(state);
 * device.submit(slot, baseSocket(fd), AFD_POLL.RECEIVE);
 * ```
 */
export class AfdSlot {
  /** The slot's address as a number: its key (user addresses are below 2^47, exact). */
  readonly key: number;
  /** Whether a poll was submitted and its packet not dequeued yet. */
  pending = false;
  /** Whether `cancel()` was called for the pending poll. */
  cancelRequested = false;
  /** NTSTATUS of the last completed poll. */
  status = 0;
  /** The AFD_POLL_* events the last completed poll reported (0 when none). */
  events = 0;
  /** Whether `release()` gave the slot back. */
  freed = false;

  /** @internal */
  constructor(
    /** What the owner hung on it (the poller's per-socket state). */
    readonly owner: unknown,
    /** @internal */
    readonly helper: Helper,
    /** @internal */
    readonly index: number,
    /** @internal */
    readonly addr: bigint,
    /** @internal */
    readonly view: DataView,
  ) {
    this.key = Number(addr);
  }
}

/**
 * The AFD device of one completion port: its helper handles (one per
 * {@linkcode SOCKETS_PER_HELPER} slots, opened as needed), their slots, the
 * pending polls, and the routing of their packets (key {@linkcode KEY_AFD})
 * to `onComplete`. Windows only: the constructor throws `NotSupported`
 * elsewhere.
 *
 * @example
 * ```ts ignore
 * const port = new CompletionPort();
 * const afd = new AfdDevice(port, (slot) => console.log(slot.events));
 * ```
 */
export class AfdDevice {
  #port: CompletionPort;
  #helpers: Helper[] = [];
  #pending = new Map<number, AfdSlot>();
  #onComplete: (slot: AfdSlot) => void;
  #closed = false;
  #cancelOut = new Uint8Array(16);

  /** Routes the port's AFD packets to `onComplete` (the slot's results readable in it). */
  constructor(port: CompletionPort, onComplete: (slot: AfdSlot) => void) {
    if (!IS_WINDOWS) {
      throw new Deno.errors.NotSupported(
        `AFD polling (\\Device\\Afd) is Windows only; this is ${Deno.build.os}`,
      );
    }
    this.#port = port;
    this.#onComplete = onComplete;
    port.onPacket(KEY_AFD, (addr) => this.#packet(addr));
  }

  /** Polls submitted whose packets have not been dequeued. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Helper handles this device has open. */
  get helpersOpen(): number {
    return this.#helpers.length;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #packet(addr: bigint): boolean {
    const slot = this.#pending.get(Number(addr));
    if (slot === undefined) return false; // not ours (never expected)
    this.#pending.delete(slot.key);
    slot.pending = false;
    slot.cancelRequested = false;
    const v = slot.view;
    slot.status = v.getUint32(AFD_SLOT.status, true);
    const n = v.getUint32(AFD_SLOT.handles, true);
    slot.events = n >= 1 ? v.getUint32(AFD_SLOT.events, true) : 0;
    this.#onComplete(slot);
    return true;
  }

  // Opens one helper handle: \Device\Afd\<name>, SYNCHRONIZE, shared read and write.
  #openHelper(): Helper {
    const name = `\\Device\\Afd\\AioLoop${Deno.pid}_${helperSeq++}`;
    const nameW = wideString(name);
    const us = new Uint8Array(16);
    const usv = new DataView(us.buffer);
    usv.setUint16(0, name.length * 2, true);
    usv.setUint16(2, name.length * 2, true);
    usv.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(nameW))), true);
    const oa = new Uint8Array(48);
    const oav = new DataView(oa.buffer);
    oav.setUint32(0, 48, true);
    oav.setBigUint64(16, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(us))), true);
    oav.setUint32(24, OBJ_CASE_INSENSITIVE, true);
    const out = new BigUint64Array(1);
    const iosb = new Uint8Array(16);
    const st = ntdll().NtCreateFile(
      new Uint8Array(out.buffer),
      SYNCHRONIZE,
      oa,
      iosb,
      null,
      0,
      FILE_SHARE_READ_WRITE,
      FILE_OPEN,
      0,
      null,
      0,
    ) >>> 0;
    // Keep the name and its UNICODE_STRING alive until the call returned.
    void nameW;
    void us;
    if (st !== STATUS_SUCCESS || out[0] === 0n) {
      throw new Deno.errors.NotSupported(
        `NtCreateFile(${name}) failed with NTSTATUS 0x${st.toString(16).padStart(8, "0")}: ` +
          `no AFD polling here`,
      );
    }
    const handle = ptrOf(out[0])!;
    const k = kernel32();
    try {
      this.#port.associateHandle(handle, KEY_AFD);
      // A packet even for STATUS_SUCCESS: never SKIP_COMPLETION_PORT_ON_SUCCESS here.
      k.SetFileCompletionNotificationModes(handle, FILE_SKIP_SET_EVENT_ON_HANDLE);
    } catch (e) {
      k.CloseHandle(handle);
      throw e;
    }
    const size = AFD_SLOT.SIZE * SLOTS_PER_SLAB;
    const slab = k.HeapAlloc(k.GetProcessHeap(), HEAP_ZERO_MEMORY, BigInt(size));
    if (slab === null) {
      k.CloseHandle(handle);
      throw new Error(`HeapAlloc of ${size} bytes failed (AFD poll slots)`);
    }
    helpersOpen++;
    const free: number[] = [];
    for (let i = SLOTS_PER_SLAB - 1; i >= 0; i--) free.push(i);
    const h: Helper = {
      handle,
      slab,
      slabAddr: BigInt(Deno.UnsafePointer.value(slab)),
      bytes: new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(slab, size)),
      free,
      used: 0,
    };
    this.#helpers.push(h);
    return h;
  }

  /**
   * A zeroed slot for one socket, on a helper handle with room (a new one
   * every {@linkcode SOCKETS_PER_HELPER} slots); `owner` is kept on it.
   */
  take(owner: unknown): AfdSlot {
    if (this.#closed) throw new Deno.errors.BadResource("the AFD device is closed");
    const h = this.#helpers.find((x) => x.free.length > 0) ?? this.#openHelper();
    const index = h.free.pop()!;
    h.used++;
    slotsInUse++;
    const off = index * AFD_SLOT.SIZE;
    h.bytes.fill(0, off, off + AFD_SLOT.SIZE);
    const view = new DataView(h.bytes.buffer, h.bytes.byteOffset + off, AFD_SLOT.SIZE);
    return new AfdSlot(owner, h, index, h.slabAddr + BigInt(off), view);
  }

  /** Gives `slot` back: only when no poll of it is pending (throws otherwise). */
  release(slot: AfdSlot): void {
    if (slot.freed) return;
    if (slot.pending) throw new Error("an AFD slot whose poll is pending cannot be freed");
    slot.freed = true;
    slot.helper.free.push(slot.index);
    slot.helper.used--;
    slotsInUse--;
  }

  /**
   * Submits one poll of the base SOCKET `base` for the AFD_POLL_* `events`
   * (LOCAL_CLOSE is always added) through `slot`. Returns the NTSTATUS:
   * STATUS_PENDING or STATUS_SUCCESS (or another non-error status) means a
   * packet comes and the slot is pending; an error status (STATUS_INVALID_HANDLE:
   * the socket was closed) means none comes.
   */
  submit(slot: AfdSlot, base: number, events: number): number {
    if (this.#closed) throw new Deno.errors.BadResource("the AFD device is closed");
    if (slot.freed || slot.pending) {
      throw new Error(`AFD slot is ${slot.freed ? "freed" : "already pending"}`);
    }
    if (!Number.isSafeInteger(base) || base <= 0) throw new RangeError(`bad SOCKET ${base}`);
    const v = slot.view;
    v.setBigUint64(AFD_SLOT.status, BigInt(STATUS_PENDING), true);
    v.setBigUint64(AFD_SLOT.information, 0n, true);
    v.setBigInt64(AFD_SLOT.timeout, 0x7FFF_FFFF_FFFF_FFFFn, true);
    v.setUint32(AFD_SLOT.handles, 1, true);
    v.setUint32(AFD_SLOT.exclusive, 0, true);
    v.setBigUint64(AFD_SLOT.handle, BigInt(base), true);
    v.setUint32(AFD_SLOT.events, (events | AFD_POLL.LOCAL_CLOSE) >>> 0, true);
    v.setUint32(AFD_SLOT.handleStatus, 0, true);
    const p = ptrOf(slot.addr);
    const info = ptrOf(slot.addr + BigInt(AFD_SLOT.info));
    const st = ntdll().NtDeviceIoControlFile(
      slot.helper.handle,
      null,
      null,
      p,
      p,
      IOCTL_AFD_POLL,
      info,
      AFD_SLOT.INFO_SIZE,
      info,
      AFD_SLOT.INFO_SIZE,
    ) >>> 0;
    // NT_ERROR (0xC...) completed at once: no packet. Anything else: a packet comes.
    if (st < 0xC000_0000) {
      slot.pending = true;
      this.#pending.set(slot.key, slot);
    } else {
      slot.status = st;
      slot.events = 0;
    }
    return st;
  }

  /**
   * Asks the pending poll of `slot` to end (`NtCancelIoFileEx`): its packet
   * still comes, with STATUS_CANCELLED, or with its events if it finished
   * first. Returns whether a poll was pending.
   */
  cancel(slot: AfdSlot): boolean {
    if (!slot.pending || this.#closed) return false;
    if (slot.cancelRequested) return true;
    slot.cancelRequested = true;
    // STATUS_NOT_FOUND (0xC0000225): it completed already; its packet is queued either way.
    ntdll().NtCancelIoFileEx(slot.helper.handle, ptrOf(slot.addr), this.#cancelOut);
    return true;
  }

  /** Cancels every pending poll (their packets still come). */
  cancelAll(): void {
    for (const slot of this.#pending.values()) this.cancel(slot);
  }

  /**
   * Closes the helper handles and frees the slots' memory: only once no
   * poll is pending (cancel them and dequeue their packets first).
   */
  close(): void {
    if (this.#closed) return;
    if (this.#pending.size > 0) {
      throw new Error(`cannot close the AFD device with ${this.#pending.size} polls pending`);
    }
    this.#closed = true;
    this.#port.onPacket(KEY_AFD, null);
    const k = kernel32();
    for (const h of this.#helpers.splice(0)) {
      k.CloseHandle(h.handle);
      slotsInUse -= h.used;
      h.used = 0;
      k.HeapFree(k.GetProcessHeap(), 0, h.slab);
      helpersOpen--;
    }
  }
}
