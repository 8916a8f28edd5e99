/**
 * The scheduling methods take a Promise's `resolve` as it is
 * (`new Promise((r) => loop.callLater(10, r))`), as `setTimeout` does, and
 * still check the arguments of callbacks that need them.
 */
import { assertEquals } from "@std/assert";
import { EventLoop } from "../mod.ts";

Deno.test("callSoon/callLater/callAt/callSoonThreadsafe take a Promise's resolve", async () => {
  using loop = new EventLoop();
  const order = await loop.runUntilComplete(async () => {
    const seen: string[] = [];
    await new Promise((r) => loop.callSoon(r)).then(() => seen.push("soon"));
    await new Promise<void>((r) => loop.callLater(1, r)).then(() => seen.push("later"));
    await new Promise((r) => loop.callAt(loop.time() + 1, r)).then(() => seen.push("at"));
    await new Promise((r) => loop.callSoonThreadsafe(r)).then(() => seen.push("threadsafe"));
    await new Promise<number>((r) => loop.callLater(1, r, 7)).then((n) => seen.push(`n=${n}`));
    return seen;
  });
  assertEquals(order, ["soon", "later", "at", "threadsafe", "n=7"]);
});

Deno.test("callLater still checks the arguments a callback needs", () => {
  using loop = new EventLoop();
  const h = loop.callLater(1, (a: number, b: string) => void [a, b], 1, "x");
  h.cancel();
  // @ts-expect-error: the callback needs a number
  loop.callLater(1, (a: number) => void a).cancel();
  // @ts-expect-error: a second argument is missing
  loop.callSoon((a: number, b: string) => void [a, b], 1).cancel();
});
