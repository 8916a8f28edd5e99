/**
 * The loop lives inside Deno's own event loop: Deno's timers, network I/O
 * and promises keep running while it runs, busy or parked. Every check is
 * on order or counts, never on durations.
 */
import { assert, assertEquals, assertGreater } from "@std/assert";
import { DEVNULL, SelectorEventLoop } from "../mod.ts";
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

Deno.test("Deno timers keep firing while a trickle of I/O keeps the loop waiting on its thread", async () => {
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
});
