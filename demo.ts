// The showcase: `deno task demo` (deno run --allow-ffi demo.ts).
import {
  createSubprocessExec,
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  getEventLoop,
  type NetAddress,
  openConnection,
  PIPE,
  probeDefaultSelector,
  Protocol,
  run,
  SelectorEventLoop,
  type SelectorKey,
  SHUT_WR,
  Socket,
  type Transport,
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

console.log("\n== 3. An echo server and a client on the loop's sock_* calls");
{
  const loop = new SelectorEventLoop();
  console.log(`  SelectorEventLoop over ${loop.selector.constructor.name} (${loop.selector.name})`);
  try {
    await loop.runUntilComplete(async () => {
      using listener = new Socket();
      listener.setsockopt("SO_REUSEADDR", true);
      listener.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
      listener.listen();
      const addr = listener.getsockname() as NetAddress;
      console.log(`  server listening on ${addr.hostname}:${addr.port}`);

      const server = loop.createTask(async () => {
        const [conn, peer] = await loop.sockAccept(listener);
        using _ = conn;
        const p = peer as NetAddress;
        console.log(`  server: accepted ${p.hostname}:${p.port}`);
        for (;;) {
          const data = await loop.sockRecv(conn, 4096);
          if (data.length === 0) break; // the client shut down its side
          await loop.sockSendall(conn, data);
        }
        console.log("  server: client closed, done");
      });

      using client = new Socket();
      await loop.sockConnect(client, addr);
      for (const line of ["hello", "asyncio on deno", "over epoll, kqueue, poll or select"]) {
        await loop.sockSendall(client, enc.encode(line));
        let got = "";
        while (got.length < line.length) got += dec.decode(await loop.sockRecv(client, 4096));
        console.log(`  client: sent "${line}", echoed "${got}"`);
      }
      // Ping-pong timing, the same loop serving both ends.
      const msg = new Uint8Array(64), buf = new Uint8Array(64);
      const n = 2000, t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await loop.sockSendall(client, msg);
        for (let got = 0; got < 64;) got += await loop.sockRecvInto(client, buf.subarray(got));
      }
      const us = (performance.now() - t0) * 1000 / n;
      console.log(`  ${n} round trips of 64 B: ${us.toFixed(1)} µs each`);
      client.shutdown(SHUT_WR);
      await server;
    });
  } finally {
    loop.close();
  }
}

console.log("\n== 4. Protocols, streams and a subprocess, under run()");
await run(async () => {
  const loop = getEventLoop();
  class Upper extends Protocol {
    #t?: Transport;
    override connectionMade(t: Transport) {
      this.#t = t;
    }
    override dataReceived(data: Uint8Array) {
      this.#t!.write(enc.encode(dec.decode(data).toUpperCase()));
    }
  }
  const server = await loop.createServer(() => new Upper(), { host: "127.0.0.1", port: 0 });
  const { port } = server.sockets[0].getsockname() as NetAddress;
  const [reader, writer] = await openConnection({ host: "127.0.0.1", port });
  writer.write(enc.encode("a protocol server answering a streams client\n"));
  console.log(`  ${dec.decode(await reader.readline()).trimEnd()}`);
  writer.close();
  await writer.waitClosed();
  server.close();
  await server.waitClosed();

  const proc = await createSubprocessExec(["sh", "-c", "tr a-z A-Z; echo exit >&2; exit 3"], {
    stdin: PIPE,
    stdout: PIPE,
    stderr: PIPE,
  });
  const [out, err] = await proc.communicate(enc.encode("through posix_spawn and a pipe"));
  console.log(
    `  child ${proc.pid}: stdout "${dec.decode(out!).trim()}", stderr "${
      dec.decode(err!).trim()
    }", returncode ${proc.returncode}`,
  );
});
