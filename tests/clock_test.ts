import { assert, assertEquals, assertGreater } from "@std/assert";
import { fileURLToPath } from "node:url";
import { monotonic, monotonicResolution, SelectorEventLoop } from "../mod.ts";

// The alignment with performance.now() is estimated once, from reads a few
// hundred ns apart; 1 ms leaves room for a descheduled read, not for a wrong scale.
const SLACK_MS = 1;

Deno.test("monotonic() never goes back", () => {
  let prev = monotonic();
  for (let i = 0; i < 100_000; i++) {
    const now = monotonic();
    assert(now >= prev, `${now} < ${prev}`);
    prev = now;
  }
});

Deno.test("monotonic() is on performance.now()'s scale", () => {
  for (let i = 0; i < 100; i++) {
    const before = performance.now();
    const now = monotonic();
    const after = performance.now();
    assert(now >= before - SLACK_MS && now <= after + SLACK_MS, `${before} ${now} ${after}`);
  }
});

Deno.test("a loop's time() is monotonic()", () => {
  using loop = new SelectorEventLoop();
  const a = monotonic();
  const t = loop.time();
  const b = monotonic();
  assert(a <= t && t <= b, `${a} ${t} ${b}`);
  assertGreater(monotonicResolution(), 0);
});

Deno.test("monotonic() falls back to performance.now() without --allow-ffi", async () => {
  const clockUrl = new URL("../loop/clock.ts", import.meta.url).href;
  const script = `
    import { monotonic, monotonicResolution } from ${JSON.stringify(clockUrl)};
    const ffi = Deno.permissions.querySync({ name: "ffi" }).state;
    const before = performance.now();
    const now = monotonic();
    const after = performance.now();
    console.log(JSON.stringify({ ffi, before, now, after, res: monotonicResolution() }));
  `;
  const repo = fileURLToPath(new URL("..", import.meta.url));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `--allow-read=${repo}`, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  assertEquals(new TextDecoder().decode(out.stderr), "");
  assertEquals(out.code, 0);
  const { ffi, before, now, after, res } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert(ffi !== "granted");
  assert(before <= now && now <= after, `${before} ${now} ${after}`); // performance.now() itself
  assertGreater(res, 0);
});
