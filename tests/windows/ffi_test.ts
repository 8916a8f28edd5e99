// Real calls into kernel32, ws2_32 and ntdll through ffi/windows/. Windows only: run
// them under Wine with `.ci/wine/run.sh . test --allow-all tests/windows/` (or
// `deno task test:windows`). On other systems only the NotSupported test runs.
import { assert, assertEquals, assertInstanceOf, assertNotEquals, assertThrows } from "@std/assert";
import {
  ADDRINFOW,
  extensionFunction,
  fdSetSize,
  INVALID_HANDLE_VALUE,
  kernel32,
  lastError,
  mswsock,
  MSWSOCK_GUIDS,
  ntdll,
  ntstatusInfos,
  OVERLAPPED_ENTRY,
  readAddrInfoW,
  readFdSet,
  readOverlapped,
  readOverlappedEntry,
  readSockaddr,
  timerResolution,
  wideString,
  wineVersion,
  winsockStarted,
  writeAddrInfoW,
  writeFdSet,
  writeOverlapped,
  writeSockaddr,
  writeTimeval,
  writeWsabuf,
  WS,
  ws2_32,
  wsaLastError,
} from "../../ffi/windows/mod.ts";

const onWindows = Deno.build.os === "windows";
const ignore = !onWindows;

function tcpSocket(family: number = WS.AF_INET): bigint {
  const s = BigInt(
    ws2_32().WSASocketW(
      family,
      WS.SOCK_STREAM,
      WS.IPPROTO_TCP,
      null,
      0,
      WS.WSA_FLAG_OVERLAPPED | WS.WSA_FLAG_NO_HANDLE_INHERIT,
    ),
  );
  if (s === WS.INVALID_SOCKET) throw wsaLastError("WSASocketW");
  return s;
}

function closeSocket(s: bigint): void {
  if (ws2_32().closesocket(s) !== 0) throw wsaLastError("closesocket", `socket ${s}`);
}

function check(rc: number, syscall: string): void {
  if (rc !== 0) throw wsaLastError(syscall);
}

function localPort(s: bigint): number {
  const sa = new Uint8Array(28);
  const len = new Int32Array([28]);
  check(ws2_32().getsockname(s, sa, new Uint8Array(len.buffer)), "getsockname");
  return readSockaddr(sa, 0, len[0]).port;
}

/** A listening socket on 127.0.0.1 and its port. */
function listener(): { s: bigint; port: number } {
  const s = tcpSocket();
  const sa = new Uint8Array(16);
  const n = writeSockaddr(sa, 0, { family: "inet", hostname: "127.0.0.1", port: 0 });
  check(ws2_32().bind(s, sa, n), "bind");
  check(ws2_32().listen(s, 16), "listen");
  return { s, port: localPort(s) };
}

Deno.test({
  name: "elsewhere than on Windows every library getter throws NotSupported",
  ignore: onWindows,
  fn() {
    assertThrows(() => kernel32(), Deno.errors.NotSupported, "Windows only");
    assertThrows(() => ws2_32(), Deno.errors.NotSupported, "Windows only");
    assertThrows(() => ntdll(), Deno.errors.NotSupported, "Windows only");
    assertThrows(() => mswsock(), Deno.errors.NotSupported, "Windows only");
    assertEquals(winsockStarted(), false);
  },
});

Deno.test({
  name: "WSAStartup runs once, on first ws2_32 use; Wine is detected",
  ignore,
  fn() {
    const a = ws2_32();
    assert(winsockStarted());
    assert(ws2_32() === a, "the same symbols object every time");
    const v = wineVersion();
    console.log(`running under ${v === null ? "Windows" : `Wine ${v}`}`);
    assert(v === null || /^\d+\.\d+/.test(v), String(v));
  },
});

Deno.test({
  name: "WSASocketW(WSA_FLAG_OVERLAPPED | NO_HANDLE_INHERIT) gives a socket that closes",
  ignore,
  fn() {
    for (const family of [WS.AF_INET, WS.AF_INET6]) {
      const s = tcpSocket(family);
      assertNotEquals(s, WS.INVALID_SOCKET);
      const type = new Int32Array(1);
      const len = new Int32Array([4]);
      check(
        ws2_32().getsockopt(
          s,
          WS.SOL_SOCKET,
          WS.SO_TYPE,
          new Uint8Array(type.buffer),
          new Uint8Array(len.buffer),
        ),
        "getsockopt",
      );
      assertEquals(type[0], WS.SOCK_STREAM);
      closeSocket(s);
    }
  },
});

Deno.test({
  name: "the mswsock extension functions come back non-NULL through WSAIoctl",
  ignore,
  fn() {
    const s = tcpSocket();
    try {
      for (const [name, guid] of Object.entries(MSWSOCK_GUIDS)) {
        assertNotEquals(extensionFunction(s, guid), 0n, name);
      }
    } finally {
      closeSocket(s);
    }
    const fns = mswsock();
    assert(mswsock() === fns, "looked up once");
    for (const name of Object.keys(MSWSOCK_GUIDS) as (keyof typeof fns)[]) {
      assertEquals(typeof fns[name].call, "function", name);
      assertNotEquals(Deno.UnsafePointer.value(fns[name].pointer), 0n, name);
    }
  },
});

Deno.test({
  name: "an IOCP: PostQueuedCompletionStatus, then GetQueuedCompletionStatusEx returns the packet",
  ignore,
  async fn() {
    const k = kernel32();
    const port = k.CreateIoCompletionPort(
      Deno.UnsafePointer.create(INVALID_HANDLE_VALUE),
      null,
      0n,
      0,
    );
    if (port === null) throw lastError("CreateIoCompletionPort");
    try {
      const entries = new Uint8Array(4 * OVERLAPPED_ENTRY.SIZE);
      const removed = new Uint32Array(1);
      // empty port, no wait: FALSE and WAIT_TIMEOUT, read at once
      assertEquals(
        k.GetQueuedCompletionStatusEx(
          port,
          Deno.UnsafePointer.of(entries),
          4,
          new Uint8Array(removed.buffer),
          0,
          0,
        ),
        0,
      );
      const timeout = lastError("GetQueuedCompletionStatusEx");
      assertInstanceOf(timeout, Deno.errors.TimedOut);
      assertEquals([timeout.code, timeout.errno], ["WAIT_TIMEOUT", 258]);

      const fakeOv = Deno.UnsafePointer.create(0x1234_5678n);
      assertEquals(k.PostQueuedCompletionStatus(port, 42, 7n, fakeOv), 1);
      assertEquals(k.PostQueuedCompletionStatus(port, 9, 0xFFFF_FFFF_FFFFn, null), 1);
      const ok = k.GetQueuedCompletionStatusEx(
        port,
        Deno.UnsafePointer.of(entries),
        4,
        new Uint8Array(removed.buffer),
        1000,
        0,
      );
      if (ok === 0) throw lastError("GetQueuedCompletionStatusEx");
      assertEquals(removed[0], 2);
      assertEquals(readOverlappedEntry(entries, 0), {
        completionKey: 7n,
        overlapped: 0x1234_5678n,
        internal: readOverlappedEntry(entries, 0).internal,
        bytes: 42,
      });
      const second = readOverlappedEntry(entries, OVERLAPPED_ENTRY.SIZE);
      assertEquals([second.completionKey, second.overlapped, second.bytes], [
        0xFFFF_FFFF_FFFFn,
        0n,
        9,
      ]);

      // the nonblocking twin, woken by a post made while it waits
      const nbEntries = new Uint8Array(OVERLAPPED_ENTRY.SIZE);
      const nbRemoved = new Uint32Array(1);
      const waiting = k.GetQueuedCompletionStatusExNB(
        port,
        Deno.UnsafePointer.of(nbEntries),
        1,
        Deno.UnsafePointer.of(nbRemoved),
        5000,
        0,
      );
      await new Promise((r) => setTimeout(r, 20));
      assertEquals(k.PostQueuedCompletionStatus(port, 1, 99n, null), 1);
      assertEquals(await waiting, 1);
      assertEquals(nbRemoved[0], 1);
      assertEquals(readOverlappedEntry(nbEntries, 0).completionKey, 99n);
    } finally {
      assertEquals(k.CloseHandle(port), 1, "CloseHandle(port)");
    }
  },
});

Deno.test({
  name: "loopback TCP: connect, accept, send, select() sees it readable, recv",
  ignore,
  fn() {
    const w = ws2_32();
    const { s: l, port } = listener();
    const c = tcpSocket();
    let a: bigint = WS.INVALID_SOCKET;
    try {
      const sa = new Uint8Array(16);
      const n = writeSockaddr(sa, 0, { family: "inet", hostname: "127.0.0.1", port });
      check(w.connect(c, sa, n), "connect");
      const peer = new Uint8Array(28);
      const peerLen = new Int32Array([28]);
      a = BigInt(w.accept(l, peer, new Uint8Array(peerLen.buffer)));
      if (a === WS.INVALID_SOCKET) throw wsaLastError("accept");
      assertEquals(readSockaddr(peer, 0, peerLen[0]), {
        family: "inet",
        hostname: "127.0.0.1",
        port: localPort(c),
      });

      // nothing to read yet: select() times out with an empty result set
      const set = new Uint8Array(fdSetSize(2));
      const tv = new Uint8Array(8);
      writeFdSet(set, 0, [a]);
      writeTimeval(tv, 0, 0);
      assertEquals(w.select(0, set, null, null, tv), 0);
      assertEquals(readFdSet(set, 0), []);

      const msg = new TextEncoder().encode("hello, winsock");
      assertEquals(w.send(c, msg, msg.length, 0), msg.length);
      writeFdSet(set, 0, [a, c]);
      writeTimeval(tv, 0, 2);
      assertEquals(w.select(0, set, null, null, tv), 1);
      assertEquals(readFdSet(set, 0), [a]);

      const buf = new Uint8Array(64);
      const got = w.recv(a, buf, buf.length, 0);
      assertEquals(new TextDecoder().decode(buf.subarray(0, got)), "hello, winsock");

      // FIONBIO, then an empty non-blocking recv: WSAEWOULDBLOCK -> WouldBlock
      const one = new Uint32Array([1]);
      check(w.ioctlsocket(a, WS.FIONBIO, new Uint8Array(one.buffer)), "ioctlsocket");
      assertEquals(w.recv(a, buf, buf.length, 0), -1);
      const e = wsaLastError("recv");
      assertInstanceOf(e, Deno.errors.WouldBlock);
      assertEquals([e.code, e.errno], ["WSAEWOULDBLOCK", 10035]);

      // empty sets: WSAEINVAL (BRIEF.md pitfall 14)
      assertEquals(w.select(0, null, null, null, tv), -1);
      assertEquals(wsaLastError("select").code, "WSAEINVAL");
    } finally {
      if (a !== WS.INVALID_SOCKET) closeSocket(a);
      closeSocket(c);
      closeSocket(l);
    }
  },
});

Deno.test({
  name: "a refused connect maps to ConnectionRefused with code WSAECONNREFUSED",
  ignore,
  fn() {
    const { s: l, port } = listener();
    closeSocket(l); // nothing listens on `port` any more
    const c = tcpSocket();
    try {
      const sa = new Uint8Array(16);
      const n = writeSockaddr(sa, 0, { family: "inet", hostname: "127.0.0.1", port });
      assertEquals(ws2_32().connect(c, sa, n), -1);
      const e = wsaLastError("connect", `127.0.0.1:${port}`);
      assertInstanceOf(e, Deno.errors.ConnectionRefused);
      assertEquals([e.code, e.errno, e.syscall], ["WSAECONNREFUSED", 10061, "connect"]);
      assert(e.message.includes(`127.0.0.1:${port}`), e.message);
    } finally {
      closeSocket(c);
    }
  },
});

Deno.test({
  name: "errors read at once after a failing call: bogus socket and bogus handle",
  ignore,
  fn() {
    assertEquals(ws2_32().closesocket(0x7777n), -1);
    const e = wsaLastError("closesocket");
    assertEquals([e.code, e.errno], ["WSAENOTSOCK", 10038]);
    assertEquals(kernel32().CloseHandle(Deno.UnsafePointer.create(0x7777n)), 0);
    const h = lastError("CloseHandle");
    assertInstanceOf(h, Deno.errors.BadResource);
    assertEquals([h.code, h.errno], ["ERROR_INVALID_HANDLE", 6]);
  },
});

Deno.test({
  name: "RtlNtStatusToDosError agrees with the NTSTATUS table",
  ignore,
  fn() {
    const n = ntdll();
    const wrong = ntstatusInfos()
      .map((i) => ({ name: i.name, table: i.win32, rtl: n.RtlNtStatusToDosError(i.code) }))
      .filter((x) => x.table !== x.rtl);
    assertEquals(wrong, []);
  },
});

Deno.test({
  name: "GetAddrInfoW('localhost'): the ADDRINFOW list and its sockaddrs decode",
  ignore,
  fn() {
    const w = ws2_32();
    const hints = new Uint8Array(ADDRINFOW.SIZE);
    writeAddrInfoW(hints, 0, { family: WS.AF_UNSPEC, socktype: WS.SOCK_STREAM });
    const out = new BigUint64Array(1);
    const rc = w.GetAddrInfoW(
      wideString("localhost"),
      wideString("80"),
      hints,
      new Uint8Array(out.buffer),
    );
    assertEquals(rc, 0, `GetAddrInfoW returned ${rc}`);
    const seen: string[] = [];
    try {
      let p = out[0];
      while (p !== 0n) {
        const ai = readAddrInfoW(
          new Uint8Array(
            Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(p)!, ADDRINFOW.SIZE),
          ),
          0,
        );
        assertEquals(ai.socktype, WS.SOCK_STREAM);
        const sa = new Uint8Array(
          Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(ai.addr)!, ai.addrlen),
        );
        const addr = readSockaddr(sa, 0, ai.addrlen);
        assertEquals(ai.family, addr.family === "inet" ? WS.AF_INET : WS.AF_INET6);
        assertEquals(addr.port, 80);
        seen.push(addr.hostname);
        p = ai.next;
      }
    } finally {
      w.FreeAddrInfoW(Deno.UnsafePointer.create(out[0]));
    }
    assert(seen.some((h) => h === "127.0.0.1" || h === "::1"), seen.join(", "));
    const bad = w.GetAddrInfoW(
      wideString("no-such-host.invalid"),
      null,
      hints,
      new Uint8Array(out.buffer),
    );
    assertEquals(bad, 11001); // WSAHOST_NOT_FOUND, returned (not through WSAGetLastError)
  },
});

Deno.test({
  name: "clocks: QueryPerformanceFrequency and NtQueryTimerResolution",
  ignore,
  fn() {
    const f = new BigInt64Array(1);
    assertEquals(kernel32().QueryPerformanceFrequency(new Uint8Array(f.buffer)), 1);
    assert(f[0] > 0n);
    const r = timerResolution();
    assert(r.finest > 0 && r.finest <= r.current && r.current <= r.coarsest, JSON.stringify(r));
  },
});

Deno.test({
  name: "a refused non-blocking connect shows in select()'s except set with SO_ERROR 10061",
  ignore,
  fn() {
    const w = ws2_32();
    const { s: l, port } = listener();
    closeSocket(l);
    const c = tcpSocket();
    try {
      const one = new Uint32Array([1]);
      check(w.ioctlsocket(c, WS.FIONBIO, new Uint8Array(one.buffer)), "ioctlsocket");
      const sa = new Uint8Array(16);
      const n = writeSockaddr(sa, 0, { family: "inet", hostname: "127.0.0.1", port });
      assertEquals(w.connect(c, sa, n), -1);
      assertEquals(wsaLastError("connect").code, "WSAEWOULDBLOCK"); // not WSAEINPROGRESS
      const wr = new Uint8Array(fdSetSize(1));
      const ex = new Uint8Array(fdSetSize(1));
      writeFdSet(wr, 0, [c]);
      writeFdSet(ex, 0, [c]);
      const tv = new Uint8Array(8);
      writeTimeval(tv, 0, 10);
      assertEquals(w.select(0, null, wr, ex, tv), 1);
      assertEquals([readFdSet(wr, 0), readFdSet(ex, 0)], [[], [c]]);
      const err = new Int32Array(1);
      const len = new Int32Array([4]);
      check(
        w.getsockopt(
          c,
          WS.SOL_SOCKET,
          WS.SO_ERROR,
          new Uint8Array(err.buffer),
          new Uint8Array(len.buffer),
        ),
        "getsockopt",
      );
      assertEquals(err[0], 10061);
    } finally {
      closeSocket(c);
    }
  },
});

/** Memory the kernel may write after a call returns: slices of one ArrayBuffer that never moves. */
function arena(size: number): (n: number) => Uint8Array<ArrayBuffer> {
  const buf = new ArrayBuffer(size);
  let off = 0;
  return (n) => {
    off = (off + 15) & ~15;
    if (off + n > size) throw new RangeError("test arena exhausted");
    const u = new Uint8Array(buf, off, n);
    off += n;
    return u;
  };
}

Deno.test({
  name: "IOCP: AcceptEx and ConnectEx complete on the port; overlapped WSASend/WSARecv move bytes",
  ignore,
  fn() {
    const k = kernel32();
    const w = ws2_32();
    const ext = mswsock();
    const alloc = arena(8192);
    const ptr = (u: Uint8Array<ArrayBuffer>) => Deno.UnsafePointer.of(u);
    const addr = (u: Uint8Array<ArrayBuffer>) => BigInt(Deno.UnsafePointer.value(ptr(u)));
    const port = k.CreateIoCompletionPort(
      Deno.UnsafePointer.create(INVALID_HANDLE_VALUE),
      null,
      0n,
      0,
    );
    if (port === null) throw lastError("CreateIoCompletionPort");
    const associate = (s: bigint, key: bigint) => {
      const r = k.CreateIoCompletionPort(Deno.UnsafePointer.create(s), port, key, 0);
      if (r === null) throw lastError("CreateIoCompletionPort", `socket ${s}`);
    };
    const entries = alloc(8 * OVERLAPPED_ENTRY.SIZE);
    const removed = new Uint32Array(1);
    const pending = new Map<bigint, { key: bigint; status: bigint; bytes: number }>();
    /** Dequeues until the packet of `ov` came (others are kept for later). */
    const waitFor = (ov: Uint8Array<ArrayBuffer>) => {
      const deadline = Date.now() + 5000;
      while (!pending.has(addr(ov))) {
        if (Date.now() > deadline) throw new Error("no completion packet within 5 s");
        const ok = k.GetQueuedCompletionStatusEx(
          port,
          ptr(entries),
          8,
          new Uint8Array(removed.buffer),
          100,
          0,
        );
        if (ok === 0) continue; // WAIT_TIMEOUT
        for (let i = 0; i < removed[0]; i++) {
          const e = readOverlappedEntry(entries, i * OVERLAPPED_ENTRY.SIZE);
          pending.set(e.overlapped, { key: e.completionKey, status: e.internal, bytes: e.bytes });
        }
      }
      const got = pending.get(addr(ov))!;
      pending.delete(addr(ov));
      return got;
    };
    /** An overlapped call: TRUE, or FALSE with WSA_IO_PENDING (997), else its error. */
    const started = (ok: boolean, syscall: string) => {
      if (ok) return;
      const e = wsaLastError(syscall);
      if (e.errno !== 997) throw e;
    };

    const { s: l, port: lport } = listener();
    const a = tcpSocket();
    const c = tcpSocket();
    try {
      associate(l, 1n);
      associate(c, 2n);
      associate(a, 3n);
      // AcceptEx: receive length 0, both address lengths sockaddr_in6 + 16 = 44
      const acceptBuf = alloc(88);
      const acceptOv = alloc(32);
      const acceptBytes = alloc(4);
      started(
        ext.AcceptEx.call(l, a, ptr(acceptBuf), 0, 44, 44, ptr(acceptBytes), ptr(acceptOv)) !== 0,
        "AcceptEx",
      );
      // ConnectEx needs a bound socket
      const any = new Uint8Array(16);
      check(
        w.bind(c, any, writeSockaddr(any, 0, { family: "inet", hostname: "127.0.0.1", port: 0 })),
        "bind",
      );
      const to = alloc(16);
      const toLen = writeSockaddr(to, 0, { family: "inet", hostname: "127.0.0.1", port: lport });
      const connectOv = alloc(32);
      started(
        ext.ConnectEx.call(c, ptr(to), toLen, null, 0, null, ptr(connectOv)) !== 0,
        "ConnectEx",
      );

      const ca = waitFor(connectOv);
      assertEquals([ca.key, ca.status], [2n, 0n]);
      const ac = waitFor(acceptOv);
      assertEquals([ac.key, ac.status], [1n, 0n]);
      assertEquals(readOverlapped(acceptOv, 0).internal, 0n); // STATUS_SUCCESS in Internal too

      const lBytes = new BigUint64Array([l]);
      check(
        w.setsockopt(
          a,
          WS.SOL_SOCKET,
          WS.SO_UPDATE_ACCEPT_CONTEXT,
          new Uint8Array(lBytes.buffer),
          8,
        ),
        "setsockopt(SO_UPDATE_ACCEPT_CONTEXT)",
      );
      check(w.setsockopt(c, WS.SOL_SOCKET, WS.SO_UPDATE_CONNECT_CONTEXT, null, 0), "setsockopt");

      // GetAcceptExSockaddrs: pointers into acceptBuf and their lengths
      const out = alloc(32);
      const outV = new DataView(out.buffer, out.byteOffset, 32);
      outV.setInt32(8, 0, true);
      outV.setInt32(24, 0, true);
      ext.GetAcceptExSockaddrs.call(
        ptr(acceptBuf),
        0,
        44,
        44,
        ptr(out.subarray(0, 8)),
        ptr(out.subarray(8, 12)),
        ptr(out.subarray(16, 24)),
        ptr(out.subarray(24, 28)),
      );
      const remoteAt = outV.getBigUint64(16, true);
      const remoteLen = outV.getInt32(24, true);
      const remote = readSockaddr(
        new Uint8Array(
          Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(remoteAt)!, remoteLen),
        ),
        0,
        remoteLen,
      );
      assertEquals([remote.hostname, remote.port], ["127.0.0.1", localPort(c)]);

      // overlapped WSARecv on the accepted socket, then WSASend from the client
      const data = new TextEncoder().encode("overlapped bytes through the port");
      const recvBuf = alloc(256);
      const recvWsabuf = alloc(16);
      writeWsabuf(recvWsabuf, 0, recvBuf.length, addr(recvBuf));
      const recvFlags = alloc(4);
      const recvOv = alloc(32);
      writeOverlapped(recvOv, 0);
      started(
        w.WSARecv(a, ptr(recvWsabuf), 1, null, ptr(recvFlags), ptr(recvOv), null) === 0,
        "WSARecv",
      );
      const sendBuf = alloc(data.length);
      sendBuf.set(data);
      const sendWsabuf = alloc(16);
      writeWsabuf(sendWsabuf, 0, sendBuf.length, addr(sendBuf));
      const sendOv = alloc(32);
      writeOverlapped(sendOv, 0);
      started(w.WSASend(c, ptr(sendWsabuf), 1, null, 0, ptr(sendOv), null) === 0, "WSASend");

      const sent = waitFor(sendOv);
      assertEquals([sent.key, sent.status, sent.bytes], [2n, 0n, data.length]);
      const recvd = waitFor(recvOv);
      assertEquals([recvd.key, recvd.status, recvd.bytes], [3n, 0n, data.length]);
      assertEquals(readOverlapped(recvOv, 0).internalHigh, BigInt(data.length));
      assertEquals(
        new TextDecoder().decode(recvBuf.subarray(0, recvd.bytes)),
        "overlapped bytes through the port",
      );
    } finally {
      closeSocket(a);
      closeSocket(c);
      closeSocket(l);
      k.CloseHandle(port);
    }
  },
});
