// The showcase: `deno task demo` (deno run --allow-ffi demo.ts).
import {
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  probeDefaultSelector,
  type SelectorKey,
} from "./mod.ts";
import { closeFd, makePipe, makeSocketPair, readFd, writeFd } from "./ffi/unix/libc.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function bits(events: number): string {
  return [events & EVENT_READ ? "READ" : "", events & EVENT_WRITE ? "WRITE" : ""]
    .filter(Boolean).join("|");
}

console.log("== 1. DefaultSelector: the best selector that really works here");
const { chosen, tried } = probeDefaultSelector();
for (const c of tried) {
  console.log(`  ${c.ok ? "✔" : "✘"} ${c.name.padEnd(15)} ${c.ok ? "works: chosen" : c.reason}`);
}
console.log(`  → DefaultSelector is ${chosen.name} on ${Deno.build.os}/${Deno.build.arch}\n`);

console.log("== 2. Watching a socket pair and a pipe");
{
  using sel = new DefaultSelector();
  const [a, b] = makeSocketPair();
  const [r, w] = makePipe();
  try {
    sel.register(a, EVENT_READ | EVENT_WRITE, "socket a");
    sel.register(r, EVENT_READ, "pipe (read end)");
    const show = (what: string, ready: Array<[SelectorKey, number]>) =>
      console.log(
        `  ${what.padEnd(36)} → ${
          ready.map(([k, ev]) => `${k.data}: ${bits(ev)}`).join(", ") || "nothing ready"
        }`,
      );
    show("select(0), nothing sent yet", sel.select(0));
    writeFd(b, enc.encode("hello from b"));
    writeFd(w, enc.encode("hello through the pipe"));
    show("after writing to b and to the pipe", sel.select(0));
    const buf = new Uint8Array(64);
    console.log(`  read on a: "${dec.decode(buf.subarray(0, readFd(a, buf)))}"`);
    console.log(`  read on the pipe: "${dec.decode(buf.subarray(0, readFd(r, buf)))}"`);
    sel.modify(a, EVENT_READ, "socket a");
    show("after reading, a watched for READ", sel.select(0));

    // selectAsync waits off the JS thread: a Deno timer fires meanwhile and writes.
    const t0 = performance.now();
    setTimeout(() => writeFd(b, enc.encode("late")), 30);
    const ready = await sel.selectAsync(5000);
    show(`selectAsync(): Deno timer wrote after 30 ms`, ready);
    console.log(`  (waited ${(performance.now() - t0).toFixed(1)} ms, JS thread free meanwhile)`);
    readFd(a, buf);
    setTimeout(() => sel.wakeup(), 10);
    show("selectAsync() woken by wakeup()", await sel.selectAsync());
  } finally {
    for (const fd of [a, b, r, w]) closeFd(fd);
  }
}
