// WindowsSelectorEventLoop (loop/windows/): the Windows rows of the platform table, the clocks,
// the policies, large echoes and handle/socket leaks, on real Winsock. Windows only: run under
// Wine with `.ci/wine/run.sh . test --allow-all tests/windows/windows_loop_test.ts`.
// On other systems only the "refuses off Windows" tests run.
import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  type AbstractEventLoop,
  DatagramProtocol,
  DefaultEventLoopPolicy,
  EventLoop,
  getEventLoopPolicy,
  newEventLoop,
  openConnection,
  ProactorEventLoop,
  Protocol,
  SelectorEventLoop,
  SelectSelector,
  Socket,
  socketpair,
  startServer,
  SubprocessProtocol,
  type Transport,
  WindowsProactorEventLoopPolicy,
  WindowsSelectorEventLoop,
  WindowsSelectorEventLoopPolicy,
  WinsockSelectSelector,
} from "../../mod.ts";
import { kernel32 } from "../../ffi/windows/kernel32.ts";
import { timerResolution as ntTimerResolution, wineVersion } from "../../ffi/windows/ntdll.ts";
import { openSockets } from "../../ffi/windows/socket.ts";

const onWindows = Deno.build.os === "windows";
const ignore = !onWindows;
const UNDER_WINE = onWindows && wineVersion() !== null;

/** The platform table's message: the method, the loop, the platform and the alternative. */
function checkRefusal(e: unknown, method: string, alternative: string): void {
  assertInstanceOf(e, Deno.errors.NotSupported, `${method}(): ${e}`);
  assertStringIncludes(e.message, `${method}()`);
  assertStringIncludes(e.message, "WindowsSelectorEventLoop");
  assertStringIncludes(e.message, "windows");
  assertStringIncludes(e.message, alternative);
}

/** An anonymous pipe made here (so no other thread has I/O pending on it), closed by `close()`. */
function anonymousPipe(): { read: number; write: number; close(): void } {
  const k = kernel32();
  const hs = new BigUint64Array(2);
  const u8 = (i: number) => new Uint8Array(hs.buffer, 8 * i, 8);
  assert(k.CreatePipe(u8(0), u8(1), null, 0) !== 0, "CreatePipe failed");
  return {
    read: Number(hs[0]),
    write: Number(hs[1]),
    close() {
      k.CloseHandle(Deno.UnsafePointer.create(hs[0]));
      k.CloseHandle(Deno.UnsafePointer.create(hs[1]));
    },
  };
}

Deno.test({
  name: "WindowsSelectorEventLoop: off Windows the constructor throws NotSupported naming it",
  ignore: onWindows,
  fn() {
    assertThrows(() => new WindowsSelectorEventLoop(), Deno.errors.NotSupported, "Windows");
    assertThrows(
      () => new WindowsSelectorEventLoopPolicy().newEventLoop(),
      Deno.errors.NotSupported,
      "DefaultEventLoopPolicy",
    );
  },
});

Deno.test({
  name: "Windows: SelectorEventLoop is WindowsSelectorEventLoop over SelectSelector (Winsock " +
    "select); EventLoop and newEventLoop() are the ProactorEventLoop, as asyncio's since 3.8",
  ignore,
  fn() {
    assert((SelectorEventLoop as unknown) === WindowsSelectorEventLoop);
    assert((EventLoop as unknown) === ProactorEventLoop);
    assert((SelectSelector as unknown) === WinsockSelectSelector);
    using loop = new SelectorEventLoop();
    assertInstanceOf(loop, WindowsSelectorEventLoop);
    assertInstanceOf(loop.selector, WinsockSelectSelector);
    assertEquals(loop.selector.name, "select");
    using made = newEventLoop();
    assertInstanceOf(made, ProactorEventLoop);
  },
});

Deno.test({
  name: "Windows policies: WindowsSelectorEventLoopPolicy makes the selector loop, " +
    "WindowsProactorEventLoopPolicy the ProactorEventLoop; child watchers refuse",
  ignore,
  fn() {
    const policy = new WindowsSelectorEventLoopPolicy();
    using loop = policy.newEventLoop();
    assertInstanceOf(loop, WindowsSelectorEventLoop);
    policy.setEventLoop(loop);
    assert(policy.getEventLoop() === loop);
    policy.setEventLoop(null);
    using dflt = new DefaultEventLoopPolicy().newEventLoop();
    assertInstanceOf(dflt, ProactorEventLoop);
    using proactor = new WindowsProactorEventLoopPolicy().newEventLoop();
    assertInstanceOf(proactor, ProactorEventLoop);
    for (
      const call of [
        () => getEventLoopPolicy().getChildWatcher(),
        () => getEventLoopPolicy().setChildWatcher(null),
      ]
    ) {
      const w = assertThrows(call, Deno.errors.NotSupported);
      assertStringIncludes(w.message, "windows");
    }
  },
});

Deno.test({
  name: "WindowsSelectorEventLoop: every Windows row of the platform table refuses, naming " +
    "the method, the loop, the platform and the alternative",
  ignore,
  async fn() {
    using loop = new WindowsSelectorEventLoop();
    const sync: [string, () => unknown, string][] = [
      ["addSignalHandler", () => loop.addSignalHandler("SIGINT", () => {}), "addSignalListener"],
      ["removeSignalHandler", () => loop.removeSignalHandler("SIGINT"), "addSignalListener"],
    ];
    for (const [method, call, alternative] of sync) {
      let thrown: unknown;
      try {
        call();
      } catch (e) {
        thrown = e;
      }
      checkRefusal(thrown, method, alternative);
    }
    const calls: [string, () => Promise<unknown>, string][] = [
      ["createUnixConnection", () => loop.createUnixConnection(() => new Protocol(), "x"), "TCP"],
      ["createUnixServer", () => loop.createUnixServer(() => new Protocol(), "x"), "TCP"],
      ["connectReadPipe", () => loop.connectReadPipe(() => new Protocol(), 0), "Proactor"],
      ["connectWritePipe", () => loop.connectWritePipe(() => new Protocol(), 1), "Proactor"],
      [
        "subprocessExec",
        () => loop.subprocessExec(() => new SubprocessProtocol(), ["cmd"]),
        "ProactorEventLoop",
      ],
      [
        "subprocessShell",
        () => loop.subprocessShell(() => new SubprocessProtocol(), "echo"),
        "ProactorEventLoop",
      ],
      [
        "createDatagramEndpoint",
        () => loop.createDatagramEndpoint(() => new DatagramProtocol(), { family: "unix" }),
        "UDP",
      ],
    ];
    for (const [method, call, alternative] of calls) {
      checkRefusal(await assertRejects(call), method, alternative);
    }
  },
});

Deno.test({
  name: "WindowsSelectorEventLoop: addReader/addWriter take sockets only: a pipe and an event " +
    "handle are refused with NotSupported, and nothing is registered",
  ignore,
  fn() {
    using loop = new WindowsSelectorEventLoop();
    const pipe = anonymousPipe();
    const k = kernel32();
    const ev = k.CreateEventW(null, 1, 0, null);
    assert(ev !== null, "CreateEventW failed");
    try {
      for (const handle of [pipe.read, pipe.write, Number(Deno.UnsafePointer.value(ev))]) {
        for (const method of ["addReader", "addWriter"] as const) {
          let thrown: unknown;
          try {
            loop[method](handle, () => {});
          } catch (e) {
            thrown = e;
          }
          checkRefusal(thrown, method, "ProactorEventLoop");
          assertStringIncludes((thrown as Error).message, "sockets only");
        }
      }
      assertEquals(loop.selector.getMap().size, 0);
      // A socket is fine, and a closed handle is a BadResource, not a refusal.
      const [a, b] = socketpair();
      loop.addReader(a, () => {});
      assert(loop.removeReader(a));
      const fd = b.fileno();
      b.close();
      assertThrows(() => loop.addReader(fd, () => {}), Deno.errors.BadResource);
      a.close();
    } finally {
      pipe.close();
      k.CloseHandle(ev);
    }
  },
});

Deno.test({
  name: "Windows clocks: clockResolution is QueryPerformanceCounter's, timerResolution " +
    "NtQueryTimerResolution's, and a timer never fires before its time",
  ignore,
  async fn() {
    using loop = new WindowsSelectorEventLoop();
    const f = new Uint32Array(2);
    assert(kernel32().QueryPerformanceFrequency(f) !== 0);
    const freq = f[0] + f[1] * 2 ** 32;
    assertEquals(loop.clockResolution, 1000 / freq);
    assertEquals(loop.timerResolution, Math.max(ntTimerResolution().current / 10_000, 1000 / freq));
    assertGreaterOrEqual(loop.timerResolution, loop.clockResolution);
    const late: number[] = [];
    await loop.runUntilComplete(async () => {
      for (const ms of [1, 5, 16, 31]) {
        const fut = loop.createFuture<number>();
        const when = loop.time() + ms;
        loop.callAt(when, () => fut.setResult(loop.time() - when));
        late.push(await fut);
      }
    });
    // Fired at or after its time (within the clock's resolution, as asyncio's loop runs
    // timers due before now + clockResolution); never before.
    for (const d of late) assertGreaterOrEqual(d, -loop.clockResolution, `fired ${-d} ms early`);
  },
});

/** Reads `n` bytes exactly from `sock` through the loop. */
async function recvExactly(loop: AbstractEventLoop, sock: Socket, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await loop.sockRecvInto(sock, out.subarray(got));
    if (k === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

/** Bytes that differ at every offset (a shifted copy would not compare equal). */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

Deno.test({
  name: "WindowsSelectorEventLoop: a 1 MiB sock* echo (sockAccept, sockConnect, sockSendall, " +
    "sockRecvInto) is byte-exact",
  ignore,
  async fn() {
    const before = openSockets().length;
    {
      using loop = new WindowsSelectorEventLoop();
      const data = pattern(1 << 20, 7);
      await loop.runUntilComplete(async () => {
        using listener = new Socket();
        listener.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
        listener.listen();
        const serve = (async () => {
          const [conn] = await loop.sockAccept(listener);
          using _c = conn;
          const got = await recvExactly(loop, conn, data.byteLength);
          await loop.sockSendall(conn, got);
        })();
        using client = new Socket();
        await loop.sockConnect(client, listener.getsockname());
        const [, echoed] = await Promise.all([
          loop.sockSendall(client, data),
          recvExactly(loop, client, data.byteLength),
        ]);
        await serve;
        assertEquals(echoed.byteLength, data.byteLength);
        assert(echoed.every((b, i) => b === data[i]), "the echo differs from what was sent");
      });
    }
    assertEquals(openSockets().length, before, "a socket was left open");
  },
});

class EchoServer extends Protocol {
  #t: Transport | null = null;
  override connectionMade(t: Transport): void {
    this.#t = t;
  }
  override dataReceived(data: Uint8Array): void {
    this.#t!.write(data);
  }
  override eofReceived(): boolean {
    this.#t!.close();
    return false;
  }
}

Deno.test({
  name: "WindowsSelectorEventLoop: a 4 MiB protocol echo (createServer, createConnection, " +
    "flow control, writeEof) is byte-exact",
  ignore,
  async fn() {
    const before = openSockets().length;
    {
      using loop = new WindowsSelectorEventLoop();
      const data = pattern(4 << 20, 11);
      await loop.runUntilComplete(async () => {
        const server = await loop.createServer(() => new EchoServer(), {
          host: "127.0.0.1",
          port: 0,
        });
        const addr = server.sockets[0].getsockname() as { port: number };
        const received: Uint8Array[] = [];
        let size = 0;
        const done = loop.createFuture<void>();
        class Client extends Protocol {
          override dataReceived(d: Uint8Array): void {
            received.push(d.slice());
            size += d.byteLength;
          }
          override connectionLost(e: Error | null): void {
            if (e) done.setException(e);
            else done.setResult(undefined);
          }
        }
        const [t] = await loop.createConnection(() => new Client(), {
          host: "127.0.0.1",
          port: addr.port,
        });
        for (let off = 0; off < data.byteLength; off += 256 << 10) {
          t.write(data.subarray(off, off + (256 << 10)));
        }
        t.writeEof();
        await done;
        server.close();
        await server.waitClosed();
        assertEquals(size, data.byteLength);
        const echoed = new Uint8Array(size);
        let at = 0;
        for (const r of received) echoed.set(r, (at += r.byteLength) - r.byteLength);
        assert(echoed.every((b, i) => b === data[i]), "the echo differs from what was sent");
      });
    }
    assertEquals(openSockets().length, before, "a socket was left open");
  },
});

Deno.test({
  name: "WindowsSelectorEventLoop: streams (startServer/openConnection) echo 1 MiB byte-exact",
  ignore,
  async fn() {
    using loop = new WindowsSelectorEventLoop();
    const data = pattern(1 << 20, 3);
    await loop.runUntilComplete(async () => {
      const server = await startServer(async (reader, writer) => {
        writer.write(await reader.readexactly(data.byteLength));
        await writer.drain();
        writer.close();
        await writer.waitClosed();
      }, { host: "127.0.0.1", port: 0 });
      const port = (server.sockets[0].getsockname() as { port: number }).port;
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port });
      writer.write(data);
      await writer.drain();
      const echoed = await reader.readexactly(data.byteLength);
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
      assert(echoed.every((b, i) => b === data[i]), "the echo differs from what was sent");
    });
  },
});

/** 200 connections made, served and closed through `loop`. */
async function churn(loop: AbstractEventLoop, n: number): Promise<void> {
  await loop.runUntilComplete(async () => {
    const server = await loop.createServer(() => new EchoServer(), { host: "127.0.0.1", port: 0 });
    const port = (server.sockets[0].getsockname() as { port: number }).port;
    for (let i = 0; i < n; i++) {
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port });
      writer.write(new Uint8Array([i & 0xff]));
      writer.writeEof();
      assertEquals(await reader.read(10), new Uint8Array([i & 0xff]));
      writer.close();
      await writer.waitClosed();
    }
    server.close();
    await server.waitClosed();
  });
}

Deno.test({
  name: "WindowsSelectorEventLoop: 200 connections leave no SOCKET open",
  ignore,
  async fn() {
    const before = openSockets();
    {
      using loop = new WindowsSelectorEventLoop();
      await churn(loop, 200);
    }
    assertEquals(openSockets(), before);
  },
});

Deno.test({
  name: "WindowsSelectorEventLoop: 200 connections leave the process handle count where it was" +
    (UNDER_WINE ? " [Wine's GetProcessHandleCount always reads 0]" : ""),
  ignore: !onWindows || UNDER_WINE,
  async fn() {
    const k = kernel32();
    const count = () => {
      const c = new Uint32Array(1);
      assert(k.GetProcessHandleCount(k.GetCurrentProcess(), new Uint8Array(c.buffer)) !== 0);
      return c[0];
    };
    // One round first, so that the thread pool and Winsock's own handles exist already.
    {
      using warm = new WindowsSelectorEventLoop();
      await churn(warm, 5);
    }
    const before = count();
    {
      using loop = new WindowsSelectorEventLoop();
      await churn(loop, 200);
    }
    assertEquals(count(), before);
  },
});

Deno.test({
  name: "Windows: TLS (ssl) is refused with NotSupported naming windows and Deno's TLS, before " +
    "any connection is made",
  ignore,
  async fn() {
    const before = openSockets().length;
    {
      using loop = new WindowsSelectorEventLoop();
      await loop.runUntilComplete(async () => {
        const calls: Array<() => Promise<unknown>> = [
          () =>
            loop.createConnection(() => new Protocol(), { host: "127.0.0.1", port: 1, ssl: true }),
          () => openConnection({ host: "127.0.0.1", port: 1, ssl: true }),
        ];
        for (const call of calls) {
          const e = await assertRejects(call, Deno.errors.NotSupported);
          assertStringIncludes(e.message, "windows");
          assertStringIncludes(e.message, "Deno.connectTls");
        }
      });
    }
    assertEquals(openSockets().length, before, "a socket was left open");
  },
});

Deno.test({
  name: "run() on Windows: a Ctrl-C cancels the main task while the ProactorEventLoop waits on " +
    "its completion port" +
    (UNDER_WINE ? " [Wine: without a console GenerateConsoleCtrlEvent fails (error 12)]" : ""),
  ignore: !onWindows || UNDER_WINE,
  async fn() {
    const k = Deno.dlopen("kernel32.dll", {
      GenerateConsoleCtrlEvent: { parameters: ["u32", "u32"], result: "i32" },
    });
    try {
      const { run } = await import("../../runner.ts");
      const { sleep } = await import("../../loop/tasks/sleep.ts");
      const e = await assertRejects(() =>
        run(async () => {
          // Parked in GetQueuedCompletionStatusEx when the event comes.
          setTimeout(() => k.symbols.GenerateConsoleCtrlEvent(0, /* CTRL_C_EVENT */ 0), 50);
          await sleep(60_000);
        })
      );
      assertInstanceOf(e, Deno.errors.Interrupted);
      assertStringIncludes(e.message, "KeyboardInterrupt");
    } finally {
      k.close();
    }
  },
});
