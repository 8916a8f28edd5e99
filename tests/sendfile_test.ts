/**
 * `loop.sockSendfile()` on every loop of LOOPS: natively (`sendfile(2)` on
 * the Linux/macOS selector loops, TransmitFile on the ProactorEventLoop) and
 * through the fallback (reads of 256 KiB sent with `sockSendall`), with the
 * peer reading through `sockRecv` on the same loop.
 */
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { CancelledError } from "../mod.ts";
import { SHUT_WR, Socket } from "../net/mod.ts";
import { SendfileNotAvailableError } from "../loop/base/_sendfile.ts";
import * as unixFiles from "../ffi/unix/file.ts";
import { closeFd } from "../ffi/unix/libc.ts";
import * as winFiles from "../ffi/windows/iocp.ts";
import { INVALID_HANDLE_VALUE, K32, kernel32 } from "../ffi/windows/kernel32.ts";
import { wideString } from "../ffi/windows/structs.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { forEachLoop, type LoopCase, type TestLoop } from "./_loops.ts";

const onWindows = Deno.build.os === "windows";
const MiB = 1024 * 1024;
const DEVICE = onWindows ? "NUL" : "/dev/null";

/** Whether the loop sends natively (so `fallback: false` works). */
function hasNative(loop: TestLoop): boolean {
  if (loop.constructor.name.includes("Proactor")) return true;
  return Deno.build.os === "linux" || Deno.build.os === "darwin";
}

/** Makes the loop's native path unavailable, so that the fallback runs. */
function forceFallback(loop: TestLoop): void {
  Object.defineProperty(loop, "_sockSendfileNative", {
    value: () => Promise.reject(new SendfileNotAvailableError("disabled by the test")),
  });
}

// The file calls of this OS, for the tests that hand sockSendfile an fd / HANDLE.
const files = onWindows
  ? {
    open: winFiles.openFileRead,
    close: winFiles.closeFile,
    tell: winFiles.tellFd,
    seek: winFiles.seekFd,
  }
  : {
    open: unixFiles.openFileRead,
    close: closeFd,
    tell: unixFiles.tellFd,
    seek: unixFiles.seekFd,
  };

/**
 * Windows: whether `path` can be opened with no sharing at all, which fails
 * (ERROR_SHARING_VIOLATION) while any handle to it is open: how a file
 * HANDLE leak shows (tests/_fd_leak.ts counts SOCKETs only there).
 */
function noHandleOpen(path: string): boolean {
  const k = kernel32();
  const h = k.CreateFileW(
    wideString(path),
    K32.GENERIC_READ >>> 0,
    0,
    null,
    K32.OPEN_EXISTING,
    0,
    null,
  );
  const v = h === null ? 0n : BigInt(Deno.UnsafePointer.value(h));
  if (v === 0n || v === INVALID_HANDLE_VALUE) return false;
  k.CloseHandle(h);
  return true;
}

/** Deterministic bytes: byte i is a mix of i. */
function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >>> 8) * 7 + (i >>> 16)) & 0xff;
  return out;
}

async function tempFile(data: Uint8Array): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "aio_sendfile_" });
  await Deno.writeFile(path, data);
  return path;
}

/** A connected TCP pair made through the loop: [client, accepted]. */
async function connectedPair(loop: TestLoop): Promise<[Socket, Socket]> {
  using lsock = new Socket({ family: "inet" });
  lsock.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  lsock.listen();
  const client = new Socket({ family: "inet" });
  const accepted = loop.sockAccept(lsock);
  await loop.sockConnect(client, lsock.getsockname());
  const [conn] = await accepted;
  return [client, conn];
}

/** Reads with sockRecv until EOF. */
async function recvAll(loop: TestLoop, sock: Socket): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const c = await loop.sockRecv(sock, 256 * 1024);
    if (c.byteLength === 0) break;
    chunks.push(c);
    total += c.byteLength;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Sends `file` with sockSendfile on one end of a fresh pair while the other
 * end reads to EOF (the sender shuts down its write side after): the bytes
 * sent and the bytes received.
 */
async function sendAndReceive(
  loop: TestLoop,
  file: string | URL | number,
  options?: { offset?: number; count?: number; fallback?: boolean },
): Promise<[number, Uint8Array]> {
  const [a, b] = await connectedPair(loop);
  try {
    const receiving = recvAll(loop, b);
    let sent = 0, failure: unknown = null;
    try {
      sent = await loop.sockSendfile(a, file, options);
    } catch (e) {
      failure = e;
    }
    // Either way the peer sees EOF and its read finishes before the sockets close.
    a.shutdown(SHUT_WR);
    const got = await receiving;
    if (failure !== null) throw failure;
    return [sent, got];
  } finally {
    a.close();
    b.close();
  }
}

function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  assertEquals(actual.byteLength, expected.byteLength, "byte count");
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      throw new Error(`byte ${i} differs: ${actual[i]} != ${expected[i]}`);
    }
  }
}

/** Each data test runs as the loop does it (native where it can) and with the fallback forced. */
const MODES = ["as is", "forced fallback"] as const;

forEachLoop([], (lc: LoopCase, test) => {
  for (const mode of MODES) {
    const prep = (loop: TestLoop) => {
      if (mode === "forced fallback") forceFallback(loop);
    };
    const tag = `${lc.name}.sockSendfile() (${mode})`;

    test(`${tag}: an empty file sends 0 bytes`, async () => {
      using loop = lc.make();
      prep(loop);
      const path = await tempFile(new Uint8Array(0));
      try {
        const [sent, got] = await loop.runUntilComplete(() => sendAndReceive(loop, path));
        assertEquals(sent, 0);
        assertEquals(got.byteLength, 0);
      } finally {
        await Deno.remove(path);
      }
    });

    test(`${tag}: a few bytes, by path and by file: URL`, async () => {
      using loop = lc.make();
      prep(loop);
      const data = new TextEncoder().encode("hello, sendfile");
      const path = await tempFile(data);
      try {
        const [sent, got] = await loop.runUntilComplete(() => sendAndReceive(loop, path));
        assertEquals(sent, data.byteLength);
        assertBytes(got, data);
        const url = new URL(`file://${onWindows ? "/" : ""}${path.replaceAll("\\", "/")}`);
        const [sent2, got2] = await loop.runUntilComplete(() =>
          sendAndReceive(loop, url, { offset: 7 })
        );
        assertEquals(sent2, data.byteLength - 7);
        assertBytes(got2, data.subarray(7));
      } finally {
        await Deno.remove(path);
      }
    });

    test(`${tag}: 5 MiB arrive byte-exact, whole and at offsets`, async () => {
      using loop = lc.make();
      prep(loop);
      const data = pattern(5 * MiB);
      const path = await tempFile(data);
      try {
        await loop.runUntilComplete(async () => {
          const [sent, got] = await sendAndReceive(loop, path);
          assertEquals(sent, data.byteLength);
          assertBytes(got, data);
          const [sent2, got2] = await sendAndReceive(loop, path, {
            offset: 12345,
            count: 3 * MiB + 7,
          });
          assertEquals(sent2, 3 * MiB + 7);
          assertBytes(got2, data.subarray(12345, 12345 + 3 * MiB + 7));
          const [sent3, got3] = await sendAndReceive(loop, path, { offset: 4 * MiB + 1 });
          assertEquals(sent3, MiB - 1);
          assertBytes(got3, data.subarray(4 * MiB + 1));
        });
      } finally {
        await Deno.remove(path);
      }
    });

    test(`${tag}: a count past the end of the file sends up to the end`, async () => {
      using loop = lc.make();
      prep(loop);
      const data = pattern(100_000);
      const path = await tempFile(data);
      try {
        await loop.runUntilComplete(async () => {
          const [sent, got] = await sendAndReceive(loop, path, { offset: 99_000, count: 5000 });
          assertEquals(sent, 1000);
          assertBytes(got, data.subarray(99_000));
          const [sent2, got2] = await sendAndReceive(loop, path, { offset: 200_000, count: 10 });
          assertEquals(sent2, 0);
          assertEquals(got2.byteLength, 0);
        });
      } finally {
        await Deno.remove(path);
      }
    });

    test(`${tag}: an fd is left open, positioned at offset + sent`, async () => {
      using loop = lc.make();
      prep(loop);
      const data = pattern(300_000);
      const path = await tempFile(data);
      const fd = files.open(path);
      try {
        await loop.runUntilComplete(async () => {
          const [sent, got] = await sendAndReceive(loop, fd, { offset: 1000, count: 270_000 });
          assertEquals(sent, 270_000);
          assertBytes(got, data.subarray(1000, 271_000));
          assertEquals(files.tell(fd), 271_000);
          // The fd's own position is not where sending starts: offset is (default 0).
          files.seek(fd, 5);
          const [sent2, got2] = await sendAndReceive(loop, fd);
          assertEquals(sent2, data.byteLength);
          assertBytes(got2, data);
          assertEquals(files.tell(fd), data.byteLength);
        });
      } finally {
        files.close(fd);
        await Deno.remove(path);
      }
    });

    test(`${tag}: aborting the signal rejects with CancelledError`, async () => {
      using loop = lc.make();
      prep(loop);
      // Far more than the socket buffers of a loopback pair hold: the send must wait for the
      // peer, which does not read until the call was aborted.
      const data = pattern(64 * MiB);
      const path = await tempFile(data);
      try {
        await loop.runUntilComplete(async () => {
          const [a, b] = await connectedPair(loop);
          try {
            const ac = new AbortController();
            const sending = loop.sockSendfile(a, path, { signal: ac.signal });
            loop.callSoon(() => ac.abort());
            const e = await assertRejects(() => sending, CancelledError);
            assertStringIncludes(String(e), "sockSendfile");
            // The pair still works after the abort: the peer gets what was sent and then EOF.
            a.shutdown(SHUT_WR);
            const got = await recvAll(loop, b);
            assert(got.byteLength < data.byteLength, `all ${got.byteLength} bytes went`);
            assertBytes(got, data.subarray(0, got.byteLength));
          } finally {
            a.close();
            b.close();
          }
        });
      } finally {
        await Deno.remove(path);
      }
    });

    test(`${tag}: two calls at once, one file, two sockets`, async () => {
      using loop = lc.make();
      prep(loop);
      const data = pattern(2 * MiB + 3);
      const path = await tempFile(data);
      try {
        await loop.runUntilComplete(async () => {
          const [[s1, g1], [s2, g2]] = await Promise.all([
            sendAndReceive(loop, path),
            sendAndReceive(loop, path, { offset: MiB }),
          ]);
          assertEquals([s1, s2], [data.byteLength, MiB + 3]);
          assertBytes(g1, data);
          assertBytes(g2, data.subarray(MiB));
        });
      } finally {
        await Deno.remove(path);
      }
    });

    test(`${tag}: an aborted signal rejects at once`, async () => {
      using loop = lc.make();
      prep(loop);
      const path = await tempFile(pattern(10));
      try {
        await loop.runUntilComplete(async () => {
          const [a, b] = await connectedPair(loop);
          try {
            await assertRejects(
              () => loop.sockSendfile(a, path, { signal: AbortSignal.abort() }),
              CancelledError,
            );
          } finally {
            a.close();
            b.close();
          }
        });
      } finally {
        await Deno.remove(path);
      }
    });
  }

  test(`${lc.name}.sockSendfile(): a closed loop rejects`, async () => {
    const path = await tempFile(pattern(10));
    try {
      const loop = lc.make();
      const [a, b] = await loop.runUntilComplete(() => connectedPair(loop));
      loop.close();
      try {
        const e = await assertRejects(() => loop.sockSendfile(a, path));
        assertStringIncludes(String(e), "closed");
      } finally {
        a.close();
        b.close();
      }
    } finally {
      await Deno.remove(path);
    }
  });

  test(`${lc.name}.sockSendfile(): a closed socket rejects with BadResource`, async () => {
    using loop = lc.make();
    const path = await tempFile(pattern(10));
    try {
      await loop.runUntilComplete(async () => {
        const [a, b] = await connectedPair(loop);
        a.close();
        b.close();
        await assertRejects(() => loop.sockSendfile(a, path), Deno.errors.BadResource);
      });
    } finally {
      await Deno.remove(path);
    }
  });

  test(`${lc.name}.sockSendfile(): a directory and a device are refused, naming them`, async () => {
    using loop = lc.make();
    const dir = await Deno.makeTempDir({ prefix: "aio_sendfile_dir_" });
    try {
      await loop.runUntilComplete(async () => {
        const [a, b] = await connectedPair(loop);
        try {
          const e = await assertRejects(() => loop.sockSendfile(a, dir), TypeError);
          assertStringIncludes(e.message, dir);
          assertStringIncludes(e.message, "directory");
          const device = DEVICE;
          const e2 = await assertRejects(() => loop.sockSendfile(a, device), TypeError);
          assertStringIncludes(e2.message, "not a regular file");
          const fd = files.open(device);
          try {
            const e3 = await assertRejects(() => loop.sockSendfile(a, fd), TypeError);
            assertStringIncludes(e3.message, `${fd}`);
          } finally {
            files.close(fd);
          }
          await assertRejects(
            () => loop.sockSendfile(a, `${dir}/missing`),
            Deno.errors.NotFound,
          );
        } finally {
          a.close();
          b.close();
        }
      });
    } finally {
      await Deno.remove(dir);
    }
  });

  test(`${lc.name}.sockSendfile(): a datagram socket and bad arguments are refused`, async () => {
    using loop = lc.make();
    const path = await tempFile(pattern(10));
    try {
      await loop.runUntilComplete(async () => {
        using udp = new Socket({ family: "inet", type: "dgram" });
        udp.setBlocking(false);
        const e = assertThrows(() => loop.sockSendfile(udp, path), TypeError);
        assertStringIncludes(e.message, "stream");
        const [a, b] = await connectedPair(loop);
        try {
          assertThrows(() => loop.sockSendfile(a, path, { offset: -1 }), RangeError);
          assertThrows(() => loop.sockSendfile(a, path, { offset: 1.5 }), TypeError);
          assertThrows(() => loop.sockSendfile(a, path, { count: 0 }), RangeError);
          assertThrows(() => loop.sockSendfile(a, path, { count: -3 }), RangeError);
          assertThrows(
            () => loop.sockSendfile(a, path, { count: "1" as unknown as number }),
            TypeError,
          );
          assertThrows(
            () => loop.sockSendfile(a, path, { fallback: 1 as unknown as boolean }),
            TypeError,
          );
          assertThrows(() => loop.sockSendfile(a, {} as unknown as string), TypeError);
          assertThrows(() => loop.sockSendfile(a, new URL("http://x/y")), TypeError);
          assertThrows(() => loop.sockSendfile("sock" as unknown as Socket, path), TypeError);
          a.setBlocking(true);
          assertThrows(() => loop.sockSendfile(a, path), TypeError);
        } finally {
          a.close();
          b.close();
        }
      });
    } finally {
      await Deno.remove(path);
    }
  });

  test(`${lc.name}.sockSendfile(): fallback: false`, async () => {
    using loop = lc.make();
    const data = pattern(70_000);
    const path = await tempFile(data);
    try {
      await loop.runUntilComplete(async () => {
        if (hasNative(loop)) {
          const [sent, got] = await sendAndReceive(loop, path, { fallback: false });
          assertEquals(sent, data.byteLength);
          assertBytes(got, data);
        } else {
          const e = await assertRejects(
            () => sendAndReceive(loop, path, { fallback: false }),
            SendfileNotAvailableError,
          );
          assertInstanceOf(e, Deno.errors.NotSupported);
          assertStringIncludes(e.message, "fallback is disabled");
        }
        // Without native sendfile (forced here), fallback: false refuses, saying why.
        forceFallback(loop);
        const e = await assertRejects(
          () => sendAndReceive(loop, path, { fallback: false }),
          SendfileNotAvailableError,
        );
        assertInstanceOf(e, Deno.errors.NotSupported);
        assertStringIncludes(e.message, "disabled by the test");
      });
    } finally {
      await Deno.remove(path);
    }
  });

  test(`${lc.name}.sockSendfile(): no fd or handle leaks`, async () => {
    const data = pattern(200_000);
    const path = await tempFile(data);
    try {
      await assertNoFdLeak(async () => {
        using loop = lc.make();
        await loop.runUntilComplete(async () => {
          for (let i = 0; i < 3; i++) {
            const [sent] = await sendAndReceive(loop, path);
            assertEquals(sent, data.byteLength);
          }
          const [a, b] = await connectedPair(loop);
          try {
            await assertRejects(() => loop.sockSendfile(a, DEVICE), TypeError);
          } finally {
            a.close();
            b.close();
          }
          forceFallback(loop);
          const [sent] = await sendAndReceive(loop, path);
          assertEquals(sent, data.byteLength);
        });
      });
      if (onWindows) {
        assert(noHandleOpen(path), `a HANDLE to ${path} is still open`);
        const h = files.open(path); // the check sees an open handle
        assert(!noHandleOpen(path), "an open HANDLE went unseen");
        files.close(h);
      }
    } finally {
      await Deno.remove(path);
    }
  });
});
