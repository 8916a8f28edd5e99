import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { Socket } from "../net/mod.ts";
import { forEachLoop } from "./_loops.ts";
import { onLoop, pattern, Recorder, sameBytes } from "./_stream_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const LINUX = Deno.build.os === "linux";

/** Echoes what it gets; closes at EOF. */
class Echo extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

forEachLoop(["unixSockets"], (lc, test) => {
  const L = `unix sockets (${lc.tag})`;

  test(
    `${L}: createUnixServer()/createUnixConnection() echo, and close() removes the file`,
    onLoop(lc, async (loop) => {
      const dir = Deno.makeTempDirSync();
      const path = `${dir}/echo.sock`;
      try {
        const server = await loop.createUnixServer(() => new Echo(), path);
        assert(Deno.lstatSync(path).isSocket);
        const [t, p] = await loop.createUnixConnection(() => new Recorder(), path);
        assertEquals(t.getExtraInfo("peername"), { transport: "unix", path });
        assertEquals(t.getExtraInfo("sockname"), { transport: "unix", path: "" });
        const data = pattern(2 * 1024 * 1024, 5);
        t.write(data);
        t.writeEof();
        assertEquals(await p.lost.promise, null);
        assertEquals(sameBytes(p.bytes(), data), null);
        server.close();
        await server.waitClosed();
        assert(!exists(path), "the socket file is still there after close()");
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    }),
  );

  test(
    `${L}: a stale socket file is removed on bind; other files are not`,
    onLoop(lc, async (loop) => {
      const dir = Deno.makeTempDirSync();
      const path = `${dir}/stale.sock`;
      try {
        const old = new Socket({ family: "unix" });
        old.bind({ transport: "unix", path });
        old.close(); // leaves the file behind
        assert(Deno.lstatSync(path).isSocket);
        await using server = await loop.createUnixServer(() => new Echo(), path);
        const [t, p] = await loop.createUnixConnection(() => new Recorder(), path);
        t.write(enc.encode("fresh"));
        t.writeEof();
        await p.lost.promise;
        assertEquals(dec.decode(p.bytes()), "fresh");
        assertEquals(server.sockets.length, 1);

        const file = `${dir}/regular`;
        Deno.writeTextFileSync(file, "keep me");
        const err = await assertRejects(
          () => loop.createUnixServer(() => new Echo(), file),
          Deno.errors.AddrInUse,
        );
        assertStringIncludes(err.message, "already in use");
        assertEquals(Deno.readTextFileSync(file), "keep me");
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    }),
  );

  test(
    `${L}: cleanupSocket: false keeps the file; a replaced file is not removed`,
    onLoop(lc, async (loop) => {
      const dir = Deno.makeTempDirSync();
      const path = `${dir}/keep.sock`;
      try {
        const s1 = await loop.createUnixServer(() => new Echo(), path, { cleanupSocket: false });
        s1.close();
        await s1.waitClosed();
        assert(Deno.lstatSync(path).isSocket);

        const s2 = await loop.createUnixServer(() => new Echo(), path); // removes the stale one
        Deno.removeSync(path);
        Deno.writeTextFileSync(path, "someone else's");
        s2.close();
        await s2.waitClosed();
        assertEquals(Deno.readTextFileSync(path), "someone else's");
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    }),
  );

  if (LINUX) {
    test(
      `${L}: Linux abstract names work and leave no file`,
      onLoop(lc, async (loop) => {
        const name = `\0aio-loop-test-${crypto.randomUUID()}`;
        const server = await loop.createUnixServer(() => new Echo(), name);
        assertEquals(server.sockets[0].getsockname(), { transport: "unix", path: name });
        const [t, p] = await loop.createUnixConnection(() => new Recorder(), name);
        t.write(enc.encode("abstract"));
        t.writeEof();
        await p.lost.promise;
        assertEquals(dec.decode(p.bytes()), "abstract");
        server.close();
        await server.waitClosed();
      }),
    );
  }

  test(
    `${L}: createUnixConnection() to a missing path rejects and leaks nothing`,
    onLoop(lc, async (loop) => {
      await assertRejects(
        () => loop.createUnixConnection(() => new Recorder(), "/nonexistent/dir/x.sock"),
        Deno.errors.NotFound,
      );
      await assertRejects(
        () => loop.createUnixConnection(() => new Recorder()),
        TypeError,
      );
      // TLS is tests/tls_*_test.ts's; a server context without cert and key is refused.
      await assertRejects(
        () => loop.createUnixServer(() => new Echo(), "/tmp/x.sock", { ssl: {} }),
        TypeError,
        "cert and key",
      );
    }),
  );

  test(
    `${L}: createUnixServer({ sock }) and createUnixConnection({ sock })`,
    onLoop(lc, async (loop) => {
      const dir = Deno.makeTempDirSync();
      const path = `${dir}/given.sock`;
      try {
        const lsock = new Socket({ family: "unix" });
        lsock.bind({ transport: "unix", path });
        const server = await loop.createUnixServer(() => new Echo(), null, { sock: lsock });
        const csock = new Socket({ family: "unix" });
        await loop.sockConnect(csock, { transport: "unix", path });
        const [t, p] = await loop.createUnixConnection(() => new Recorder(), null, { sock: csock });
        t.write(enc.encode("given"));
        t.writeEof();
        await p.lost.promise;
        assertEquals(dec.decode(p.bytes()), "given");
        server.close();
        await server.waitClosed();
        assert(!exists(path));
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    }),
  );
});
