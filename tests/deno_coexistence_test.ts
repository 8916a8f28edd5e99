/**
 * The loop lives inside Deno's own event loop: Deno's timers, network I/O
 * and promises keep running while it runs, busy or parked. Every check is
 * on order or counts, never on durations.
 */
import { assert, assertEquals, assertGreater } from "@std/assert";
import { DEVNULL, Protocol, SelectorEventLoop, type Transport } from "../mod.ts";
import { Recorder } from "./_subprocess_helpers.ts";

/** Keeps `loop` busy with a callSoon chain until `until()` holds (or a hop cap is reached). */
function busyChain(loop: SelectorEventLoop, until: () => boolean, cap = 50_000_000) {
  const state = { hops: 0 };
  const hop = () => {
    state.hops++;
    if (until() || state.hops >= cap) loop.stop();
    else loop.callSoon(hop);
  };
  loop.callSoon(hop);
  return state;
}

Deno.test("a busy loop doesn't starve Deno timers", async () => {
  using loop = new SelectorEventLoop();
  let fired = 0;
  const id = setInterval(() => fired++, 1);
  const state = busyChain(loop, () => fired >= 3);
  await loop.runForever();
  clearInterval(id);
  assert(fired >= 3, `the interval fired ${fired} times`);
  assertGreater(state.hops, 1);
});

Deno.test("a busy loop doesn't starve promises and fetch to Deno.serve", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("pong"),
  );
  using loop = new SelectorEventLoop();
  let body: string | null = null;
  let ticks = 0;
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const fetching = (async () => {
    for (let i = 0; i < 100; i++) {
      await null;
      ticks++;
    }
    const res = await fetch(url);
    body = await res.text();
  })();
  const state = busyChain(loop, () => body !== null);
  await loop.runForever();
  await fetching;
  assertEquals(body, "pong");
  assertEquals(ticks, 100);
  assertGreater(state.hops, 1);
});

Deno.test("a task can await fetch() to Deno.serve while the loop runs", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => new Response(new URL(req.url).pathname),
  );
  using loop = new SelectorEventLoop();
  const seen: string[] = [];
  loop.callLater(1, () => seen.push("loop timer"));
  const body = await loop.runUntilComplete(async (signal) => {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/hello`, { signal });
    seen.push("fetched");
    return await res.text();
  });
  assertEquals(body, "/hello");
  assert(seen.includes("fetched"));
});

Deno.test("a Deno timer calling callSoon() on a parked loop gets its callback run", async () => {
  using loop = new SelectorEventLoop();
  const far = loop.callLater(60_000, () => {});
  const seen: string[] = [];
  setTimeout(() => {
    seen.push("deno timer");
    loop.callSoon(() => {
      seen.push("callback");
      loop.stop();
    });
  }, 2);
  await loop.runForever();
  assertEquals(seen, ["deno timer", "callback"]);
  assertEquals(far.cancelled(), false); // the far timer didn't have to fire first
  far.cancel();
});

Deno.test("a Deno timer calling stop() or callLater() wakes a parked loop", async () => {
  using loop = new SelectorEventLoop();
  const far = loop.callLater(60_000, () => {});
  setTimeout(() => loop.stop(), 2);
  await loop.runForever();
  let ran = false;
  setTimeout(() =>
    loop.callLater(1, () => {
      ran = true;
      loop.stop();
    }), 2);
  await loop.runForever();
  assert(ran);
  far.cancel();
});

Deno.test("a promise resolved outside the loop wakes runUntilComplete()", async () => {
  using loop = new SelectorEventLoop();
  const p = new Promise<string>((resolve) => setTimeout(() => resolve("outside"), 2));
  assertEquals(await loop.runUntilComplete(p), "outside");
});

Deno.test("setTimeout callbacks run while the loop is parked on a long timer", async () => {
  using loop = new SelectorEventLoop();
  const far = loop.callLater(60_000, () => {});
  let n = 0;
  const tick = () => {
    if (++n < 5) setTimeout(tick, 1);
    else loop.stop();
  };
  setTimeout(tick, 1);
  await loop.runForever();
  assertEquals(n, 5);
  far.cancel();
});

// A python3 child through subprocessExec: the Windows selector loop has no subprocesses (the
// platform table's refusal is checked by the LOOPS suites); the TCP variant below runs there.
Deno.test({
  name: "Deno timers keep firing while a trickle of I/O keeps the loop waiting on its thread" +
    (Deno.build.os === "windows" ? " [a python3 child's pipe: no subprocesses on this loop]" : ""),
  ignore: Deno.build.os === "windows",
  fn: trickleFromChild,
});

async function trickleFromChild(): Promise<void> {
  // A child writes a byte every ~0.3 ms: each read leaves the loop "hot", so it
  // waits for the next byte on the JS thread (BRIEF_WAIT_MS) instead of parking.
  using loop = new SelectorEventLoop();
  let fired = 0, bytes = 0, armed = false;
  const id = setInterval(() => fired++, 1);
  const proto = new Recorder();
  const original = proto.pipeDataReceived.bind(proto);
  proto.pipeDataReceived = (fd, data) => {
    bytes += data.byteLength;
    original(fd, data);
    if (armed && fired >= 3) loop.stop();
  };
  const [transport] = await loop.runUntilComplete(() =>
    loop.subprocessExec(() => proto, [
      "python3",
      "-c",
      "import os, time\nwhile True:\n    os.write(1, b'x')\n    time.sleep(0.0003)",
    ], { stdin: DEVNULL, stderr: DEVNULL })
  );
  fired = bytes = 0;
  armed = true;
  await loop.runForever();
  armed = false;
  clearInterval(id);
  assert(fired >= 3, `the interval fired ${fired} times`);
  assertGreater(bytes, 0);
  transport.kill();
  await loop.runUntilComplete(proto.done.promise);
  transport.close();
}

// The worker: connects to the port it is sent and writes a byte every ~0.3 ms (Atomics.wait
// sleeps its own thread) until the main thread sets the flag, then says "done".
const TRICKLE_WORKER = `
self.onmessage = async ({ data: { port, flag } }) => {
  const stop = new Int32Array(flag);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const x = new Uint8Array([120]);
  while (Atomics.load(stop, 0) === 0) {
    await conn.write(x);
    Atomics.wait(nap, 0, 0, 0.3);
  }
  conn.close();
  self.postMessage("done");
};
`;

Deno.test("Deno timers keep firing while a trickle of TCP bytes from a worker keeps the loop waiting on its thread", async () => {
  // As above, with the bytes coming over loopback TCP from a Worker's thread: the loop
  // accepts them on its own socket (this runs on Windows too).
  using loop = new SelectorEventLoop();
  let fired = 0, bytes = 0, armed = false, transport: Transport | undefined;
  let lost!: () => void;
  const closed = new Promise<void>((resolve) => lost = resolve);
  class Sink extends Protocol {
    override connectionMade(t: Transport): void {
      transport = t;
      loop.stop();
    }
    override dataReceived(data: Uint8Array): void {
      bytes += data.byteLength;
      if (armed && fired >= 3) loop.stop();
    }
    override connectionLost(): void {
      lost();
    }
  }
  const server = await loop.runUntilComplete(() =>
    loop.createServer(() => new Sink(), { host: "127.0.0.1", port: 0 })
  );
  const port = (server.sockets[0].getsockname() as { port: number }).port;
  const flag = new SharedArrayBuffer(4);
  const url = URL.createObjectURL(new Blob([TRICKLE_WORKER], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const done = new Promise((resolve) => {
    worker.onmessage = resolve;
    worker.onerror = (e) => {
      e.preventDefault();
      resolve(e);
    };
  });
  try {
    worker.postMessage({ port, flag });
    await loop.runForever(); // until the connection is made
    assert(transport !== undefined, "the worker connected");
    const id = setInterval(() => fired++, 1);
    fired = bytes = 0;
    armed = true;
    await loop.runForever();
    armed = false;
    clearInterval(id);
    assert(fired >= 3, `the interval fired ${fired} times`);
    assertGreater(bytes, 0);
  } finally {
    Atomics.store(new Int32Array(flag), 0, 1);
    await done;
    worker.terminate();
    URL.revokeObjectURL(url);
  }
  await loop.runUntilComplete(closed);
  server.close();
  await loop.runUntilComplete(() => server.waitClosed());
});
