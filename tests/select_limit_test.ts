// A loop over SelectSelector meets fds >= FD_SETSIZE (1024): every path refuses them cleanly.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { closeFd, getNofileLimit, makeSocketPair, setNofileSoftLimit } from "../ffi/unix/libc.ts";
import { type ExceptionContext, SelectorEventLoop } from "../mod.ts";
import { type NetAddress, Socket } from "../net/mod.ts";
import { SelectSelector } from "../selectors/mod.ts";
import { Protocol, type Transport } from "../transports/mod.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";

/** Fills the fd table until the next fd is >= 1024; returns the fillers. */
function fillLowFds(): number[] {
  const { soft, hard } = getNofileLimit();
  if (soft < 2048) setNofileSoftLimit(Math.min(hard, 4096));
  const fillers: number[] = [];
  for (;;) {
    const [a, b] = makeSocketPair();
    fillers.push(a, b);
    if (b >= 1030) return fillers;
  }
}

class Echo extends Protocol {
  #t?: Transport;
  override connectionMade(t: Transport): void {
    this.#t = t;
  }
  override dataReceived(data: Uint8Array): void {
    this.#t!.write(data);
  }
}

Deno.test("SelectorEventLoop(SelectSelector): createConnection() on fd >= 1024 rejects with RangeError", () =>
  assertNoFdLeak(async () => {
    using loop = new SelectorEventLoop(new SelectSelector());
    using listener = new Socket();
    listener.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
    listener.listen();
    const { port } = listener.getsockname() as NetAddress;
    const fillers = fillLowFds();
    try {
      const e = await assertRejects(
        () =>
          loop.runUntilComplete(() =>
            loop.createConnection(() => new Echo(), { host: "127.0.0.1", port })
          ),
        RangeError,
        "FD_SETSIZE",
      );
      assertStringIncludes(e.message, "PollSelector");
    } finally {
      fillers.forEach(closeFd);
    }
  }));

Deno.test("SelectorEventLoop(SelectSelector): a server refuses a connection on fd >= 1024 and keeps serving", () =>
  assertNoFdLeak(async () => {
    using loop = new SelectorEventLoop(new SelectSelector());
    const reported: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => void reported.push(ctx));
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Echo(), { host: "127.0.0.1", port: 0 });
      const { port } = server.sockets[0].getsockname() as NetAddress;
      const fillers = fillLowFds();
      try {
        // Deno's own client: its fd is not ours; the accepted fd would be >= 1024.
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        const buf = new Uint8Array(8);
        const n = await conn.read(buf); // the server closes the connection it can't watch
        assert(n === null || n === 0, `expected EOF, got ${n}`);
        conn.close();
      } finally {
        fillers.forEach(closeFd);
      }
      assert(reported.length >= 1, "the refusal goes to the exception handler");
      assertInstanceOf(reported[0].exception, RangeError);
      assertStringIncludes(String((reported[0].exception as Error).message), "FD_SETSIZE");
      // With low fds free again, the same server echoes.
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("ok"));
      const buf = new Uint8Array(2);
      let got = 0;
      while (got < 2) got += (await conn.read(buf.subarray(got))) ?? 0;
      assertEquals(new TextDecoder().decode(buf), "ok");
      conn.close();
      server.close();
      await server.waitClosed();
    });
  }));
