/**
 * The pointer-level half of the IOCP proactor (DESIGN.md decision 8): an I/O
 * completion port, the off-heap slots its overlapped operations live in, the
 * starting calls (WSARecv, WSASend, WSARecvFrom, WSASendTo, AcceptEx,
 * ConnectEx; ReadFile, WriteFile and ConnectNamedPipe on pipe handles) and
 * the dequeuing of their packets. Everything here that the
 * kernel may touch after a call returns (each OVERLAPPED, its WSABUF, the
 * data buffer, the address and its length, the entry array of a wait) is
 * off-heap memory from `HeapAlloc`, owned by one {@linkcode Overlapped} and
 * freed only when that operation's completion packet was dequeued (one comes
 * even when the call succeeded at once: SetFileCompletionNotificationModes is
 * not used), or at once when the starting call failed (no packet comes).
 *
 * Nothing outside `ffi/` sees a pointer: an operation is an object, its data
 * goes in and out as copies (`Uint8Array`s), its address as sockaddr bytes.
 * Every length is checked before memory is touched; each slot is reached
 * through a `DataView` of its own bytes only.
 *
 * Status and byte count are read from `OVERLAPPED.Internal`/`InternalHigh`
 * (never `GetLastError` after an off-thread call). The wait is a
 * `nonblocking` `GetQueuedCompletionStatusEx` into an off-heap array of
 * {@linkcode ENTRIES_MAX} entries; the wake is a `PostQueuedCompletionStatus`
 * with its own key, coalesced.
 *
 * @module
 */
import { winError } from "./errors.ts";
import { INVALID_HANDLE_VALUE, IS_WINDOWS, K32, kernel32, lastError } from "./kernel32.ts";
import { ntdll } from "./ntdll.ts";
import { osError } from "./socket.ts";
import { OVERLAPPED, OVERLAPPED_ENTRY, wideString, WSABUF } from "./structs.ts";
import { mswsock, WS, ws2_32 } from "./ws2_32.ts";

export { IS_WINDOWS };

/** The completion key of every handle associated with a port (the OVERLAPPED tells operations apart). */
const KEY_IO = 1n;
/** The completion key of the wake packet. */
const KEY_WAKE = 2n;
/**
 * The completion key of AFD helper handles (`./afd.ts`): their packets go to
 * the handler given to {@linkcode CompletionPort.onPacket}.
 */
export const KEY_AFD = 3n;

/**
 * A handler of the packets of one completion key: gets the packet's
 * lpOverlapped; returns whether the packet was its own (it counts as an operation).
 */
export type PacketHandler = (overlappedAddr: bigint) => boolean;

/** The most entries one wait dequeues (the off-heap entry array's length). */
export const ENTRIES_MAX = 128;
/** The largest buffer one receive gets (a receive may return fewer bytes than asked). */
export const RECV_MAX = 256 * 1024;
/** The largest buffer one send gets: `sockSendall` sends more as several operations. */
export const SEND_MAX = 16 * 1024 * 1024;
/** The most bytes one TransmitFile sends (its documented limit, 2^31 - 2). */
export const TRANSMIT_MAX = 0x7fff_fffe;

const ERROR_IO_PENDING = 997;
const ERROR_MORE_DATA = 234;
const ERROR_PIPE_CONNECTED = 535;
const WSAEMSGSIZE = 10040;
const ERROR_INVALID_PARAMETER = 87;
const STATUS_SUCCESS = 0;
const STATUS_BUFFER_OVERFLOW = 0x8000_0005;
const STATUS_CANCELLED = 0xC000_0120;
const STATUS_PENDING = 0x103;
const HEAP_ZERO_MEMORY = 8;

// ---- the slot layout --------------------------------------------------------------

/**
 * One operation's slot, in bytes: the OVERLAPPED first (its address is the
 * operation's key), then what the starting call and its completion write.
 *
 * @example
 * ```ts
 * import { SLOT } from "./iocp.ts";
 * console.log(SLOT.overlapped, SLOT.SIZE); // 0 288
 * ```
 */
export const SLOT = Object.freeze({
  /** OVERLAPPED, 32 bytes. */
  overlapped: 0,
  /** WSABUF, 16 bytes (len, then the data buffer's address). */
  wsabuf: 32,
  /** WSARecv/WSARecvFrom flags (u32, in and out). */
  flags: 48,
  /** The bytes-transferred out-parameter of the starting call (u32). */
  bytes: 52,
  /** The address length (i32, in and out for WSARecvFrom). */
  addrLen: 56,
  /** SOCKADDR_STORAGE, 128 bytes (the peer of WSARecvFrom, the target of WSASendTo/ConnectEx). */
  addr: 64,
  /** AcceptEx's output buffer: 2 × (sockaddr_in6 + 16) = 88 bytes. */
  acceptBuf: 192,
  /** The slot's size (a multiple of 16). */
  SIZE: 288,
});

/** sockaddr_in6 + 16: what AcceptEx needs for each address. */
const ACCEPT_ADDR_LEN = 44;
/** The bytes of a SOCKADDR_STORAGE. */
export const ADDR_MAX = 128;
const SLOTS_PER_SLAB = 64;

// ---- off-heap memory ----------------------------------------------------------------

/** A block of off-heap memory: its address, and a view of exactly its bytes. */
interface Block {
  readonly ptr: NonNullable<Deno.PointerValue>;
  readonly addr: bigint;
  readonly bytes: Uint8Array<ArrayBuffer>;
}

let heap: Deno.PointerValue = null;

function alloc(size: number, what: string): Block {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`${what}: bad size ${size}`);
  const k = kernel32();
  heap ??= k.GetProcessHeap();
  const ptr = k.HeapAlloc(heap, HEAP_ZERO_MEMORY, BigInt(size));
  if (ptr === null) throw new Error(`HeapAlloc of ${size} bytes failed (${what})`);
  const addr = BigInt(Deno.UnsafePointer.value(ptr));
  const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(ptr, size));
  return { ptr, addr, bytes };
}

function free(b: Block): void {
  kernel32().HeapFree(heap, 0, b.ptr);
}

/** Data buffers by size class (4 KiB · 4ⁿ up to RECV_MAX), kept for reuse. */
const BUFFER_CLASSES = [4096, 16384, 65536, RECV_MAX];
const KEEP_PER_CLASS = 16;

class BufferPool {
  #free: Block[][] = BUFFER_CLASSES.map(() => []);

  take(size: number): Block {
    for (let i = 0; i < BUFFER_CLASSES.length; i++) {
      if (size <= BUFFER_CLASSES[i]) {
        return this.#free[i].pop() ?? alloc(BUFFER_CLASSES[i], "buffer");
      }
    }
    return alloc(size, "send buffer");
  }

  give(b: Block): void {
    const i = BUFFER_CLASSES.indexOf(b.bytes.byteLength);
    if (i >= 0 && this.#free[i].length < KEEP_PER_CLASS) this.#free[i].push(b);
    else free(b);
  }

  clear(): void {
    for (const list of this.#free) for (const b of list.splice(0)) free(b);
  }
}

/** The slot pool: slabs of SLOTS_PER_SLAB slots, handed out and taken back by index. */
class SlotPool {
  #slabs: Block[] = [];
  #free: number[] = [];
  #inUse = 0;

  get inUse(): number {
    return this.#inUse;
  }

  /** A zeroed slot: its index, address and a view of its SLOT.SIZE bytes. */
  take(): { index: number; addr: bigint; bytes: Uint8Array<ArrayBuffer> } {
    if (this.#free.length === 0) {
      const slab = alloc(SLOT.SIZE * SLOTS_PER_SLAB, "slot slab");
      const base = this.#slabs.length * SLOTS_PER_SLAB;
      this.#slabs.push(slab);
      for (let i = SLOTS_PER_SLAB - 1; i >= 0; i--) this.#free.push(base + i);
    }
    const index = this.#free.pop()!;
    const slab = this.#slabs[Math.floor(index / SLOTS_PER_SLAB)];
    const off = (index % SLOTS_PER_SLAB) * SLOT.SIZE;
    const bytes = slab.bytes.subarray(off, off + SLOT.SIZE);
    bytes.fill(0);
    this.#inUse++;
    return { index, addr: slab.addr + BigInt(off), bytes };
  }

  give(index: number): void {
    this.#free.push(index);
    this.#inUse--;
  }

  /** Frees every slab; only when no slot is in use. */
  clear(): void {
    if (this.#inUse !== 0) throw new Error(`${this.#inUse} slots are still in use`);
    for (const s of this.#slabs.splice(0)) free(s);
    this.#free.length = 0;
  }
}

// ---- operations -------------------------------------------------------------------

/** What an operation does (the name of its starting call). */
export type OverlappedKind =
  | "WSARecv"
  | "WSASend"
  | "WSARecvFrom"
  | "WSASendTo"
  | "AcceptEx"
  | "ConnectEx"
  | "ReadFile"
  | "WriteFile"
  | "ConnectNamedPipe"
  | "TransmitFile";

/** Where an operation is: started (its packet not dequeued yet), completing (in its callback), freed. */
export type OverlappedState = "pending" | "completing" | "freed";

const toPointer = (v: bigint): Deno.PointerValue => Deno.UnsafePointer.create(v);

/**
 * One overlapped operation and its off-heap slot. Made by the starting
 * methods of {@linkcode CompletionPort}; its results (`status`, `bytes`,
 * {@linkcode Overlapped.read}, {@linkcode Overlapped.address}) can be read only
 * inside the completion callback, after which the slot is freed.
 *
 * @example
 * ```ts ignore
 * const op = port.recv(fd, 4096, myState);
 * // ...later, in the callback passed to port.poll():
 * (op) => console.log(op.owner === myState, op.read().length);
 * ```
 */
export class Overlapped {
  #state: OverlappedState = "pending";
  #slotIndex: number;
  #slot: Uint8Array<ArrayBuffer>;
  #view: DataView;
  #buf: Block | null;
  #pool: { slots: SlotPool; buffers: BufferPool };
  /** The OVERLAPPED's address as a number: the operation's key (below 2^47, exact). */
  readonly key: number;
  /** The OVERLAPPED's address. */
  readonly address64: bigint;
  /** `NTSTATUS` of the completion (`STATUS_PENDING` until then). */
  status = STATUS_PENDING;
  /** Bytes transferred, from `InternalHigh`. */
  bytes = 0;
  /** Whether `CancelIoEx` was called for it. */
  cancelRequested = false;

  /** @internal */
  constructor(
    readonly kind: OverlappedKind,
    /** The SOCKET or pipe HANDLE the operation runs on (and CancelIoEx targets). */
    readonly handle: number,
    /** What the caller hung on it (the proactor's op record). */
    readonly owner: unknown,
    pool: { slots: SlotPool; buffers: BufferPool },
    bufSize: number,
  ) {
    this.#pool = pool;
    const s = pool.slots.take();
    this.#slotIndex = s.index;
    this.#slot = s.bytes;
    this.#view = new DataView(s.bytes.buffer, s.bytes.byteOffset, SLOT.SIZE);
    this.address64 = s.addr;
    this.key = Number(s.addr);
    try {
      this.#buf = bufSize > 0 ? pool.buffers.take(bufSize) : null;
    } catch (e) {
      pool.slots.give(this.#slotIndex);
      this.#state = "freed";
      throw e;
    }
    // WSABUF: len, then the buffer's address.
    this.#view.setUint32(SLOT.wsabuf + WSABUF.len, bufSize, true);
    this.#view.setBigUint64(SLOT.wsabuf + WSABUF.buf, this.#buf?.addr ?? 0n, true);
  }

  /** Where the operation is. */
  get state(): OverlappedState {
    return this.#state;
  }

  /** @internal */
  ptr(field: number, size: number): Deno.PointerValue {
    if (this.#state !== "pending") throw new Error(`${this.kind}: the slot is ${this.#state}`);
    if (!Number.isInteger(field) || field < 0 || field + size > SLOT.SIZE) {
      throw new RangeError(`slot field ${field}+${size} is outside its ${SLOT.SIZE} bytes`);
    }
    return toPointer(this.address64 + BigInt(field));
  }

  /** @internal */
  get view(): DataView {
    return this.#view;
  }

  /** @internal The data buffer, for copying in before the call. */
  get buffer(): Uint8Array<ArrayBuffer> | null {
    return this.#buf?.bytes ?? null;
  }

  /** @internal Reads status and bytes from the OVERLAPPED: the packet was dequeued. */
  complete(): void {
    this.status = this.#view.getUint32(SLOT.overlapped + OVERLAPPED.Internal, true);
    const n = this.#view.getBigUint64(SLOT.overlapped + OVERLAPPED.InternalHigh, true);
    this.bytes = n > 0xFFFF_FFFFn ? 0 : Number(n);
    this.#state = "completing";
  }

  /** Whether the operation succeeded (a datagram larger than the buffer counts: it was truncated). */
  get ok(): boolean {
    return this.status === STATUS_SUCCESS || this.status === STATUS_BUFFER_OVERFLOW;
  }

  /** Whether the operation ended because it was cancelled (CancelIoEx, or its socket closed). */
  get aborted(): boolean {
    return this.status === STATUS_CANCELLED;
  }

  /** The Win32 error code of a failed completion (0 when it succeeded). */
  get win32Error(): number {
    return this.ok ? 0 : ntdll().RtlNtStatusToDosError(this.status >>> 0);
  }

  /** The error of a failed completion, as `Deno.errors.*` with the Windows `code`; null if it succeeded. */
  error(detail?: string): Error | null {
    if (this.ok) return null;
    const status = `NTSTATUS 0x${(this.status >>> 0).toString(16).padStart(8, "0")}`;
    return osError(this.win32Error, this.kind, `${detail ?? `socket ${this.handle}`}, ${status}`);
  }

  #checkCompleting(what: string): void {
    if (this.#state !== "completing") {
      throw new Error(`${what}: the results of ${this.kind} are read in its completion only`);
    }
  }

  /**
   * A copy of the bytes received (at most `max`, or all of them): only in
   * the completion callback.
   */
  read(max = this.bytes): Uint8Array<ArrayBuffer> {
    this.#checkCompleting("Overlapped.read()");
    const buf = this.#buf;
    const n = Math.min(this.bytes, max, buf?.bytes.byteLength ?? 0);
    if (n <= 0 || buf === null) return new Uint8Array(0);
    return buf.bytes.slice(0, n);
  }

  /** Copies the bytes received into `dst` (as many as fit); returns how many. */
  readInto(dst: Uint8Array): number {
    this.#checkCompleting("Overlapped.readInto()");
    const buf = this.#buf;
    const n = Math.min(this.bytes, dst.byteLength, buf?.bytes.byteLength ?? 0);
    if (n > 0 && buf !== null) dst.set(buf.bytes.subarray(0, n));
    return n;
  }

  /** A copy of the sockaddr the completion wrote (WSARecvFrom's sender), with its length. */
  address(): { bytes: Uint8Array; length: number } {
    this.#checkCompleting("Overlapped.address()");
    const len = this.#view.getInt32(SLOT.addrLen, true);
    const n = len > 0 && len <= ADDR_MAX ? len : 0;
    const bytes = this.#slot.slice(SLOT.addr, SLOT.addr + ADDR_MAX);
    return { bytes, length: n };
  }

  /** @internal Frees the slot and the buffer: after the packet, or when the starting call failed. */
  release(): void {
    if (this.#state === "freed") return;
    this.#state = "freed";
    if (this.#buf !== null) this.#pool.buffers.give(this.#buf);
    this.#buf = null;
    this.#pool.slots.give(this.#slotIndex);
  }
}

// ---- the port -------------------------------------------------------------------------

/** What a completion callback gets: the operation, whose results are readable during the call. */
export type CompletionCallback = (op: Overlapped) => void;

/**
 * An I/O completion port with its slot pool, its pending operations (by
 * OVERLAPPED address), its entry array and its wake packet. Windows only:
 * the constructor throws `NotSupported` elsewhere.
 *
 * @example
 * ```ts
 * import { CompletionPort } from "./iocp.ts";
 * if (Deno.build.os === "windows") {
 *   const port = new CompletionPort();
 *   port.wakeup();
 *   console.log(port.poll(() => {})); // 0: the wake packet is no operation
 *   port.close();
 * }
 * ```
 */
export class CompletionPort {
  #port: Deno.PointerValue;
  #entries: Block;
  #removed: Block;
  #removedSync = new Uint8Array(4);
  #pending = new Map<number, Overlapped>();
  #pool = { slots: new SlotPool(), buffers: new BufferPool() };
  #waiting = false;
  #wakePosted = false;
  #closed = false;
  #handlers = new Map<bigint, PacketHandler>();

  /** Makes the port (`CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0)`). */
  constructor() {
    if (!IS_WINDOWS) {
      throw new Deno.errors.NotSupported(
        `I/O completion ports are Windows only; this is ${Deno.build.os}`,
      );
    }
    ws2_32(); // Winsock started
    const k = kernel32();
    const port = k.CreateIoCompletionPort(toPointer(INVALID_HANDLE_VALUE), null, 0n, 0);
    if (port === null) throw lastError("CreateIoCompletionPort");
    this.#port = port;
    try {
      this.#entries = alloc(OVERLAPPED_ENTRY.SIZE * ENTRIES_MAX, "OVERLAPPED_ENTRY array");
      this.#removed = alloc(8, "removed count");
    } catch (e) {
      k.CloseHandle(port);
      throw e;
    }
  }

  /** How many operations were started and their packets not dequeued yet. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** How many slots are in use (each pending operation holds one). */
  get slotsInUse(): number {
    return this.#pool.slots.inUse;
  }

  /** Whether a `wait()` is in flight. */
  get waiting(): boolean {
    return this.#waiting;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The pending operations (a copy). */
  pending(): Overlapped[] {
    return [...this.#pending.values()];
  }

  #check(): void {
    if (this.#closed) throw new Error("the completion port is closed");
  }

  /**
   * Associates SOCKET (or pipe HANDLE) `fd` with the port. A handle belongs to one port
   * forever: one already associated elsewhere throws (ERROR_INVALID_PARAMETER).
   */
  associate(fd: number): void {
    this.#check();
    const k = kernel32();
    const r = k.CreateIoCompletionPort(toPointer(BigInt(fd)), this.#port, KEY_IO, 0);
    if (r === null) {
      const e = k.GetLastError();
      if (e === ERROR_INVALID_PARAMETER) {
        throw new Deno.errors.NotSupported(
          `socket ${fd} already belongs to another I/O completion port (a handle belongs to ` +
            `one port forever: use it with the ProactorEventLoop that first used it)`,
        );
      }
      throw winError(e, "CreateIoCompletionPort", `socket ${fd}`);
    }
  }

  /**
   * Routes the packets of completion key `key` (not the keys of operations
   * and of the wake) to `handler`; `null` stops it. One handler per key.
   */
  onPacket(key: bigint, handler: PacketHandler | null): void {
    if (key === KEY_IO || key === KEY_WAKE) {
      throw new RangeError(`completion key ${key} belongs to the port itself`);
    }
    if (handler === null) {
      this.#handlers.delete(key);
      return;
    }
    if (this.#handlers.has(key)) {
      throw new Deno.errors.AlreadyExists(`completion key ${key} already has a handler`);
    }
    this.#handlers.set(key, handler);
  }

  /**
   * @internal Associates a HANDLE of `ffi/windows/` (an AFD helper) with
   * the port under `key`, whose packets go to the {@linkcode onPacket} handler.
   */
  associateHandle(handle: Deno.PointerValue, key: bigint): void {
    this.#check();
    if (key === KEY_IO || key === KEY_WAKE) {
      throw new RangeError(`completion key ${key} belongs to the port itself`);
    }
    const k = kernel32();
    if (k.CreateIoCompletionPort(handle, this.#port, key, 0) === null) {
      throw lastError("CreateIoCompletionPort", "AFD helper handle");
    }
  }

  // Registers a started operation, or frees it and throws the starting call's error.
  #started(op: Overlapped, ok: boolean, syscall: string, lastErr?: number): Overlapped {
    if (!ok) {
      const e = lastErr ?? ws2_32().WSAGetLastError();
      // A datagram larger than the buffer, already queued: the call fails with WSAEMSGSIZE,
      // but the request completed with STATUS_BUFFER_OVERFLOW, a warning, not an error:
      // NT queues a packet for it as for a success (checked under Wine), so the slot waits.
      const warned = (e === WSAEMSGSIZE || e === ERROR_MORE_DATA) &&
        op.view.getUint32(SLOT.overlapped + OVERLAPPED.Internal, true) === STATUS_BUFFER_OVERFLOW;
      if (e !== ERROR_IO_PENDING && !warned) {
        op.release(); // no packet comes
        throw osError(e, syscall, `${lastErr === undefined ? "socket" : "HANDLE"} ${op.handle}`);
      }
    }
    // Done at once or pending: a packet comes either way.
    this.#pending.set(op.key, op);
    return op;
  }

  #make(kind: OverlappedKind, fd: number, owner: unknown, bufSize: number): Overlapped {
    this.#check();
    if (!Number.isSafeInteger(fd) || fd < 0) throw new RangeError(`bad SOCKET ${fd}`);
    return new Overlapped(kind, fd, owner, this.#pool, bufSize);
  }

  /** WSARecv of up to `size` bytes (at most {@linkcode RECV_MAX}) on `fd`. */
  recv(fd: number, size: number, owner: unknown): Overlapped {
    const n = checkLen(size, RECV_MAX, "WSARecv");
    const op = this.#make("WSARecv", fd, owner, Math.max(n, 1));
    op.view.setUint32(SLOT.wsabuf + WSABUF.len, n, true);
    const rc = ws2_32().WSARecv(
      BigInt(fd),
      op.ptr(SLOT.wsabuf, WSABUF.SIZE),
      1,
      op.ptr(SLOT.bytes, 4),
      op.ptr(SLOT.flags, 4),
      op.ptr(SLOT.overlapped, OVERLAPPED.SIZE),
      null,
    );
    return this.#started(op, rc === 0, "WSARecv");
  }

  /** WSASend of `data` (at most {@linkcode SEND_MAX} bytes, copied off-heap) on `fd`. */
  send(fd: number, data: Uint8Array, owner: unknown): Overlapped {
    const n = checkLen(data.byteLength, SEND_MAX, "WSASend");
    const op = this.#make("WSASend", fd, owner, Math.max(n, 1));
    op.buffer!.set(data);
    op.view.setUint32(SLOT.wsabuf + WSABUF.len, n, true);
    const rc = ws2_32().WSASend(
      BigInt(fd),
      op.ptr(SLOT.wsabuf, WSABUF.SIZE),
      1,
      op.ptr(SLOT.bytes, 4),
      0,
      op.ptr(SLOT.overlapped, OVERLAPPED.SIZE),
      null,
    );
    return this.#started(op, rc === 0, "WSASend");
  }

  /** WSARecvFrom of one datagram of up to `size` bytes on `fd`, with the sender's address. */
  recvFrom(fd: number, size: number, owner: unknown): Overlapped {
    const n = checkLen(size, RECV_MAX, "WSARecvFrom");
    const op = this.#make("WSARecvFrom", fd, owner, Math.max(n, 1));
    op.view.setUint32(SLOT.wsabuf + WSABUF.len, n, true);
    op.view.setInt32(SLOT.addrLen, ADDR_MAX, true);
    const rc = ws2_32().WSARecvFrom(
      BigInt(fd),
      op.ptr(SLOT.wsabuf, WSABUF.SIZE),
      1,
      op.ptr(SLOT.bytes, 4),
      op.ptr(SLOT.flags, 4),
      op.ptr(SLOT.addr, ADDR_MAX),
      op.ptr(SLOT.addrLen, 4),
      op.ptr(SLOT.overlapped, OVERLAPPED.SIZE),
      null,
    );
    return this.#started(op, rc === 0, "WSARecvFrom");
  }

  /** WSASendTo of the datagram `data` to the sockaddr `addr` (its first `addrLen` bytes). */
  sendTo(
    fd: number,
    data: Uint8Array,
    addr: Uint8Array,
    addrLen: number,
    owner: unknown,
  ): Overlapped {
    const n = checkLen(data.byteLength, SEND_MAX, "WSASendTo");
    const alen = checkAddr(addr, addrLen, "WSASendTo");
    const op = this.#make("WSASendTo", fd, owner, Math.max(n, 1));
    op.buffer!.set(data);
    op.view.setUint32(SLOT.wsabuf + WSABUF.len, n, true);
    new Uint8Array(op.view.buffer, op.view.byteOffset + SLOT.addr, ADDR_MAX).set(
      addr.subarray(0, alen),
    );
    const rc = ws2_32().WSASendTo(
      BigInt(fd),
      op.ptr(SLOT.wsabuf, WSABUF.SIZE),
      1,
      op.ptr(SLOT.bytes, 4),
      0,
      op.ptr(SLOT.addr, ADDR_MAX),
      alen,
      op.ptr(SLOT.overlapped, OVERLAPPED.SIZE),
      null,
    );
    return this.#started(op, rc === 0, "WSASendTo");
  }

  /**
   * AcceptEx on the listening `fd` into the fresh, unbound socket `acceptFd`
   * of the same family (no data received with it). After a successful
   * completion call {@linkcode updateAcceptContext}.
   */
  accept(fd: number, acceptFd: number, owner: unknown): Overlapped {
    if (!Number.isSafeInteger(acceptFd) || acceptFd < 0) {
      throw new RangeError(`bad SOCKET ${acceptFd}`);
    }
    const op = this.#make("AcceptEx", fd, owner, 0);
    const ok = mswsock().AcceptEx.call(
      BigInt(fd),
      BigInt(acceptFd),
      op.ptr(SLOT.acceptBuf, 2 * ACCEPT_ADDR_LEN),
      0,
      ACCEPT_ADDR_LEN,
      ACCEPT_ADDR_LEN,
      op.ptr(SLOT.bytes, 4),
      op.ptr(SLOT.overlapped, OVERLAPPED.SIZE),
    );
    return this.#started(op, ok !== 0, "AcceptEx");
  }

  /**
   * ConnectEx of the bound stream socket `fd` to the sockaddr `addr`. After
   * a successful completion call {@linkcode updateConnectContext}.
   */
  connect(fd: number, addr: Uint8Array, addrLen: number, owner: unknown): Overlapped {
    const alen = checkAddr(addr, addrLen, "ConnectEx");
    const op = this.#make("ConnectEx", fd, owner, 0);
    new Uint8Array(op.view.buffer, op.view.byteOffset + SLOT.addr, ADDR_MAX).set(
      addr.subarray(0, alen),
    );
    const ok = mswsock().ConnectEx.call(
      BigInt(fd),
      op.ptr(SLOT.addr, ADDR_MAX),
      alen,
      null,
      0,
      op.ptr(SLOT.bytes, 4),
      op.ptr(SLOT.overlapped, OVERLAPPED.SIZE),
    );
    return this.#started(op, ok !== 0, "ConnectEx");
  }

  /**
   * Overlapped ReadFile of up to `size` bytes (at most {@linkcode RECV_MAX})
   * on the pipe HANDLE `h`. A pipe whose writer is gone fails at once with
   * ERROR_BROKEN_PIPE (109) and no packet (the caller's EOF); its completion
   * may also carry 109 (end of file) or ERROR_MORE_DATA (a message-mode read).
   */
  readFile(h: number, size: number, owner: unknown): Overlapped {
    const n = checkLen(size, RECV_MAX, "ReadFile");
    const op = this.#make("ReadFile", h, owner, Math.max(n, 1));
    const k = kernel32();
    const ok = k.ReadFile(
      toPointer(BigInt(h)),
      toPointer(BigInt(op.view.getBigUint64(SLOT.wsabuf + WSABUF.buf, true))),
      n,
      null,
      op.ptr(SLOT.overlapped, OVERLAPPED.SIZE),
    );
    return this.#started(op, ok !== 0, "ReadFile", ok !== 0 ? 0 : k.GetLastError());
  }

  /**
   * Overlapped WriteFile of `data` (at most {@linkcode SEND_MAX} bytes,
   * copied off-heap) on the pipe HANDLE `h`. A pipe whose reader is gone
   * fails at once with ERROR_NO_DATA (232) or ERROR_BROKEN_PIPE (109).
   */
  writeFile(h: number, data: Uint8Array, owner: unknown): Overlapped {
    const n = checkLen(data.byteLength, SEND_MAX, "WriteFile");
    const op = this.#make("WriteFile", h, owner, Math.max(n, 1));
    op.buffer!.set(data);
    const k = kernel32();
    const ok = k.WriteFile(
      toPointer(BigInt(h)),
      toPointer(BigInt(op.view.getBigUint64(SLOT.wsabuf + WSABUF.buf, true))),
      n,
      null,
      op.ptr(SLOT.overlapped, OVERLAPPED.SIZE),
    );
    return this.#started(op, ok !== 0, "WriteFile", ok !== 0 ? 0 : k.GetLastError());
  }

  /**
   * Overlapped ConnectNamedPipe on the server instance `h`: its packet
   * comes when a client opened it. Returns `null` when a client was there
   * first (ERROR_PIPE_CONNECTED, 535: connected, and no packet comes).
   */
  connectPipe(h: number, owner: unknown): Overlapped | null {
    const op = this.#make("ConnectNamedPipe", h, owner, 0);
    const k = kernel32();
    const ok = k.ConnectNamedPipe(toPointer(BigInt(h)), op.ptr(SLOT.overlapped, OVERLAPPED.SIZE));
    const e = ok !== 0 ? 0 : k.GetLastError();
    if (e === ERROR_PIPE_CONNECTED) {
      op.release(); // no packet comes
      return null;
    }
    return this.#started(op, ok !== 0, "ConnectNamedPipe", e);
  }

  /**
   * TransmitFile of up to `count` bytes (1 to {@linkcode TRANSMIT_MAX}) of
   * the file HANDLE `h` from file offset `offset` (in the OVERLAPPED's
   * Offset/OffsetHigh) on the connected stream socket `fd`. The file needs
   * no association with the port: the packet comes through the socket's.
   */
  transmitFile(fd: number, h: number, offset: number, count: number, owner: unknown): Overlapped {
    if (!Number.isSafeInteger(h) || h <= 0) throw new RangeError(`bad file HANDLE ${h}`);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`TransmitFile: bad offset ${offset}`);
    }
    const n = checkLen(count, TRANSMIT_MAX, "TransmitFile");
    const op = this.#make("TransmitFile", fd, owner, 0);
    op.view.setUint32(SLOT.overlapped + OVERLAPPED.Offset, offset % 0x1_0000_0000, true);
    op.view.setUint32(
      SLOT.overlapped + OVERLAPPED.OffsetHigh,
      Math.floor(offset / 0x1_0000_0000),
      true,
    );
    const ok = mswsock().TransmitFile.call(
      BigInt(fd),
      toPointer(BigInt(h)),
      n,
      0,
      op.ptr(SLOT.overlapped, OVERLAPPED.SIZE),
      null,
      0,
    );
    return this.#started(op, ok !== 0, "TransmitFile");
  }

  /**
   * Asks for `op` to end (`CancelIoEx`): its packet still comes, with
   * STATUS_CANCELLED, or with its result if it finished first. Returns
   * whether a cancel was issued (false when it already finished).
   */
  cancel(op: Overlapped): boolean {
    if (op.state !== "pending" || this.#pending.get(op.key) !== op) return false;
    op.cancelRequested = true;
    const k = kernel32();
    const ok = k.CancelIoEx(toPointer(BigInt(op.handle)), op.ptr(SLOT.overlapped, OVERLAPPED.SIZE));
    // Failing with ERROR_NOT_FOUND: it completed already and its packet is queued. Another
    // error (the socket was closed meanwhile) also leaves a packet to come, from the close.
    return ok !== 0;
  }

  /** Posts the wake packet unless one is already queued. */
  wakeup(): void {
    if (this.#closed || this.#wakePosted) return;
    this.#wakePosted = true;
    if (kernel32().PostQueuedCompletionStatus(this.#port, 0, KEY_WAKE, null) === 0) {
      this.#wakePosted = false;
      throw lastError("PostQueuedCompletionStatus");
    }
  }

  // Handles `n` dequeued entries; returns how many were operations.
  #process(n: number, cb: CompletionCallback): number {
    const v = new DataView(
      this.#entries.bytes.buffer,
      this.#entries.bytes.byteOffset,
      this.#entries.bytes.byteLength,
    );
    const count = Math.min(n, ENTRIES_MAX);
    let ops = 0;
    let firstError: unknown = undefined;
    for (let i = 0; i < count; i++) {
      const at = i * OVERLAPPED_ENTRY.SIZE;
      const key = v.getBigUint64(at + OVERLAPPED_ENTRY.lpCompletionKey, true);
      const ov = v.getBigUint64(at + OVERLAPPED_ENTRY.lpOverlapped, true);
      if (key === KEY_WAKE) {
        this.#wakePosted = false;
        continue;
      }
      if (key !== KEY_IO) {
        const handler = this.#handlers.get(key);
        try {
          if (handler?.(ov) === true) ops++;
        } catch (e) {
          firstError ??= e;
        }
        continue;
      }
      const op = this.#pending.get(Number(ov));
      if (op === undefined) continue; // not ours (never expected)
      this.#pending.delete(op.key);
      op.complete();
      ops++;
      try {
        cb(op);
      } catch (e) {
        firstError ??= e;
      } finally {
        op.release();
      }
    }
    if (firstError !== undefined) throw firstError;
    return ops;
  }

  /** Dequeues, without waiting, every packet queued; returns how many were operations. */
  poll(cb: CompletionCallback): number {
    return this.waitSync(0, cb);
  }

  /** Waits on the JS thread up to `ms` (integer ms) for packets; returns how many were operations. */
  waitSync(ms: number, cb: CompletionCallback): number {
    this.#check();
    if (this.#waiting) return 0; // the entry array belongs to the wait in flight
    const k = kernel32();
    let total = 0;
    let timeout = clampMs(ms);
    for (;;) {
      const r = this.#removedSync;
      new DataView(r.buffer).setUint32(0, 0, true);
      const ok = k.GetQueuedCompletionStatusEx(
        this.#port,
        this.#entries.ptr,
        ENTRIES_MAX,
        r,
        timeout,
        0,
      );
      if (ok === 0) return total; // timed out (WAIT_TIMEOUT), nothing dequeued
      const n = new DataView(r.buffer).getUint32(0, true);
      total += this.#process(n, cb);
      if (n < ENTRIES_MAX) return total;
      timeout = 0; // the array came back full: drain what is left
    }
  }

  /**
   * Waits off the JS thread up to `ms` (integer ms, `INFINITE` never) for
   * packets, then handles them; resolves to how many were operations. One
   * wait at a time; the entry array is not touched while it is in flight.
   */
  async wait(ms: number, cb: CompletionCallback): Promise<number> {
    this.#check();
    if (this.#waiting) throw new Error("a wait is already in flight on this completion port");
    this.#waiting = true;
    const removed = new DataView(this.#removed.bytes.buffer, this.#removed.bytes.byteOffset, 8);
    removed.setUint32(0, 0, true);
    let ok: number;
    try {
      ok = await kernel32().GetQueuedCompletionStatusExNB(
        this.#port,
        this.#entries.ptr,
        ENTRIES_MAX,
        this.#removed.ptr,
        clampMs(ms),
        0,
      );
    } finally {
      this.#waiting = false;
    }
    if (this.#closed) return 0;
    if (ok === 0) return 0;
    const n = removed.getUint32(0, true);
    let total = this.#process(n, cb);
    if (n >= ENTRIES_MAX) total += this.poll(cb);
    return total;
  }

  /**
   * Closes the port: only once no operation is pending and no wait is in
   * flight (cancel them and dequeue their packets first), as freeing a slot
   * the kernel may still write would corrupt memory.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#waiting) throw new Error("cannot close a completion port while a wait is in flight");
    if (this.#pending.size > 0) {
      throw new Error(
        `cannot close a completion port with ${this.#pending.size} operations pending`,
      );
    }
    this.#closed = true;
    kernel32().CloseHandle(this.#port);
    this.#port = null;
    free(this.#entries);
    free(this.#removed);
    this.#pool.slots.clear();
    this.#pool.buffers.clear();
  }
}

function clampMs(ms: number): number {
  if (!(ms > 0)) return 0;
  if (ms >= 0xFFFF_FFFF) return 0xFFFF_FFFF;
  return Math.ceil(ms);
}

function checkLen(n: number, max: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0 || n > max) {
    throw new RangeError(`${what}: a length from 0 to ${max} was expected, got ${n}`);
  }
  return n;
}

function checkAddr(addr: Uint8Array, len: number, what: string): number {
  if (!(addr instanceof Uint8Array)) {
    throw new TypeError(`${what}: the address must be a Uint8Array`);
  }
  if (!Number.isSafeInteger(len) || len <= 0 || len > ADDR_MAX || len > addr.byteLength) {
    throw new RangeError(
      `${what}: address length ${len} is not in 1..${Math.min(ADDR_MAX, addr.byteLength)}`,
    );
  }
  return len;
}

const ctxBuf = new BigUint64Array(1);

/**
 * `setsockopt(acceptFd, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, &listenFd)`:
 * after AcceptEx, so that getpeername/shutdown work on the accepted socket.
 */
export function updateAcceptContext(acceptFd: number, listenFd: number): void {
  ctxBuf[0] = BigInt(listenFd);
  const w = ws2_32();
  const rc = w.setsockopt(
    BigInt(acceptFd),
    WS.SOL_SOCKET,
    WS.SO_UPDATE_ACCEPT_CONTEXT,
    new Uint8Array(ctxBuf.buffer),
    8,
  );
  if (rc !== 0) {
    throw osError(
      w.WSAGetLastError(),
      "setsockopt",
      `SO_UPDATE_ACCEPT_CONTEXT, socket ${acceptFd}`,
    );
  }
}

/** `setsockopt(fd, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0)`: after ConnectEx. */
export function updateConnectContext(fd: number): void {
  const w = ws2_32();
  const rc = w.setsockopt(BigInt(fd), WS.SOL_SOCKET, WS.SO_UPDATE_CONNECT_CONTEXT, null, 0);
  if (rc !== 0) {
    throw osError(w.WSAGetLastError(), "setsockopt", `SO_UPDATE_CONNECT_CONTEXT, socket ${fd}`);
  }
}

// ---- regular files (loop.sockSendfile: TransmitFile and its fallback) -------------------

/** What {@linkcode fileInfo} reports: the handle's kind and, for a disk file, its size. */
export interface FileInfo {
  /** What the handle refers to (`"file"` for a disk file, `"directory"`, `"character"`, `"fifo"`). */
  kind: "file" | "directory" | "character" | "fifo" | "unknown";
  /** The size in bytes (0 for what is not a disk file). */
  size: number;
}

const ERROR_ACCESS_DENIED = 5;
const ERROR_HANDLE_EOF = 38;
const fileHandle = (h: number): Deno.PointerValue => toPointer(BigInt(h));

/**
 * Opens the file `path` for reading (`CreateFileW`, GENERIC_READ, every
 * sharing mode, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN; synchronous): its
 * HANDLE as a number, which the caller closes with {@linkcode closeFile}. A
 * directory throws `Deno.errors.IsADirectory`.
 *
 * @example
 * ```ts ignore
 * const h = openFileRead("C:\\Windows\\win.ini");
 * closeFile(h);
 * ```
 */
export function openFileRead(path: string): number {
  if (typeof path !== "string" || path.length === 0) {
    throw new TypeError(`CreateFileW: bad path ${JSON.stringify(path)}`);
  }
  const name = wideString(path);
  const k = kernel32();
  const p = k.CreateFileW(
    name,
    K32.GENERIC_READ >>> 0,
    K32.FILE_SHARE_READ | K32.FILE_SHARE_WRITE | K32.FILE_SHARE_DELETE,
    null,
    K32.OPEN_EXISTING,
    K32.FILE_FLAG_SEQUENTIAL_SCAN,
    null,
  );
  const v = p === null ? 0n : BigInt(Deno.UnsafePointer.value(p));
  if (v === 0n || v === INVALID_HANDLE_VALUE) {
    const e = k.GetLastError();
    if (e === ERROR_ACCESS_DENIED) {
      const attrs = k.GetFileAttributesW(name);
      if (attrs !== K32.INVALID_FILE_ATTRIBUTES && (attrs & K32.FILE_ATTRIBUTE_DIRECTORY) !== 0) {
        throw new Deno.errors.IsADirectory(`CreateFileW: ${path} is a directory`);
      }
    }
    throw winError(e, "CreateFileW", path);
  }
  return Number(v);
}

/** Closes a file HANDLE (`CloseHandle`). */
export function closeFile(h: number): void {
  if (kernel32().CloseHandle(fileHandle(h)) === 0) throw lastError("CloseHandle", `HANDLE ${h}`);
}

// BY_HANDLE_FILE_INFORMATION: dwFileAttributes at 0, nFileSizeHigh at 32, nFileSizeLow at 36.
const infoBuf = new Uint8Array(52);
const infoView = new DataView(infoBuf.buffer);

/**
 * The kind and size of the open HANDLE `h` (`GetFileType`, then
 * `GetFileInformationByHandle` for a disk file); `BadResource` for a
 * handle that is not open.
 *
 * @example
 * ```ts ignore
 * console.log(fileInfo(h)); // { kind: "file", size: 1234 }
 * ```
 */
export function fileInfo(h: number): FileInfo {
  if (!Number.isSafeInteger(h) || h <= 0) throw new RangeError(`bad HANDLE ${h}`);
  const k = kernel32();
  const type = k.GetFileType(fileHandle(h));
  if (type === 0) {
    const e = k.GetLastError();
    if (e !== 0) {
      throw new Deno.errors.BadResource(`GetFileType: HANDLE ${h} is not open (error ${e})`);
    }
    return { kind: "unknown", size: 0 };
  }
  if (type === K32.FILE_TYPE_CHAR) return { kind: "character", size: 0 };
  if (type === K32.FILE_TYPE_PIPE) return { kind: "fifo", size: 0 };
  if (type !== K32.FILE_TYPE_DISK) return { kind: "unknown", size: 0 };
  if (k.GetFileInformationByHandle(fileHandle(h), infoBuf) === 0) {
    throw lastError("GetFileInformationByHandle", `HANDLE ${h}`);
  }
  if ((infoView.getUint32(0, true) & K32.FILE_ATTRIBUTE_DIRECTORY) !== 0) {
    return { kind: "directory", size: 0 };
  }
  const size = infoView.getUint32(32, true) * 0x1_0000_0000 + infoView.getUint32(36, true);
  return { kind: "file", size };
}

/** The largest read {@linkcode preadFd} makes at once. */
export const FILE_READ_MAX = 256 * 1024;
// The read's off-heap memory: OVERLAPPED at 0, the byte count at 32, the data from 64.
let readBlock: Block | null = null;

/**
 * Reads into `buf` (at most {@linkcode FILE_READ_MAX} bytes) from file
 * offset `offset` of the HANDLE `h` (ReadFile with the offset in an
 * OVERLAPPED, into off-heap memory; a handle opened for overlapped I/O is
 * waited for with GetOverlappedResult): the byte count, 0 at end of file.
 *
 * @example
 * ```ts ignore
 * const n = preadFd(h, new Uint8Array(4096), 0);
 * ```
 */
export function preadFd(h: number, buf: Uint8Array, offset: number): number {
  if (!Number.isSafeInteger(h) || h <= 0) throw new RangeError(`bad HANDLE ${h}`);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`ReadFile: bad offset ${offset}`);
  }
  const n = Math.min(buf.byteLength, FILE_READ_MAX);
  if (n === 0) return 0;
  const b = readBlock ??= alloc(64 + FILE_READ_MAX, "file read buffer");
  const v = new DataView(b.bytes.buffer, b.bytes.byteOffset, 64);
  b.bytes.fill(0, 0, 64);
  v.setUint32(OVERLAPPED.Offset, offset % 0x1_0000_0000, true);
  v.setUint32(OVERLAPPED.OffsetHigh, Math.floor(offset / 0x1_0000_0000), true);
  const k = kernel32();
  const ov = b.ptr;
  const count = Deno.UnsafePointer.offset(b.ptr, 32);
  const data = Deno.UnsafePointer.offset(b.ptr, 64);
  let ok = k.ReadFile(fileHandle(h), data, n, count, ov);
  let got = v.getUint32(32, true);
  if (ok === 0) {
    let e = k.GetLastError();
    if (e === ERROR_IO_PENDING) {
      const moved = new Uint32Array(1);
      ok = k.GetOverlappedResult(fileHandle(h), ov, new Uint8Array(moved.buffer), 1);
      e = ok === 0 ? k.GetLastError() : 0;
      got = moved[0];
    }
    if (ok === 0) {
      if (e === ERROR_HANDLE_EOF) return 0;
      throw winError(e, "ReadFile", `HANDLE ${h}`);
    }
  }
  got = Math.min(got, n);
  if (got > 0) buf.set(b.bytes.subarray(64, 64 + got));
  return got;
}

/**
 * Sets the file position of the HANDLE `h` (`SetFilePointerEx`, FILE_BEGIN).
 *
 * @example
 * ```ts ignore
 * seekFd(h, 100);
 * ```
 */
export function seekFd(h: number, pos: number): void {
  if (!Number.isSafeInteger(pos) || pos < 0) throw new RangeError(`bad file position ${pos}`);
  if (kernel32().SetFilePointerEx(fileHandle(h), BigInt(pos), null, K32.FILE_BEGIN) === 0) {
    throw lastError("SetFilePointerEx", `HANDLE ${h}`);
  }
}

/**
 * The file position of the HANDLE `h` (`SetFilePointerEx(h, 0, &pos, FILE_CURRENT)`).
 *
 * @example
 * ```ts ignore
 * console.log(tellFd(h)); // 0
 * ```
 */
export function tellFd(h: number): number {
  const pos = new BigInt64Array(1);
  if (kernel32().SetFilePointerEx(fileHandle(h), 0n, new Uint8Array(pos.buffer), 1) === 0) {
    throw lastError("SetFilePointerEx", `HANDLE ${h}`);
  }
  return Number(pos[0]);
}

/** The most bytes one {@linkcode preadFd} moves (named as the Unix file calls name theirs). */
export const FILE_IO_MAX: number = FILE_READ_MAX;

/**
 * Whether `sendfile(2)` exists: never on Windows (TransmitFile, an
 * overlapped operation, is {@linkcode CompletionPort.transmitFile}).
 */
export const HAS_SENDFILE: boolean = false;

/**
 * `sendfile(2)`, which Windows lacks: throws `NotSupported` (the readiness
 * loops fall back; the ProactorEventLoop uses TransmitFile).
 *
 * @example
 * ```ts ignore
 * sendfileFd(sock, h, 0, 1); // throws NotSupported
 * ```
 */
export function sendfileFd(_sock: number, _fd: number, _offset: number, _count: number): number {
  throw new Deno.errors.NotSupported(
    "sendfile(2) does not exist on Windows: TransmitFile needs the ProactorEventLoop",
  );
}
