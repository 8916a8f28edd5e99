import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  closeSocketFd as closeFd,
  recvFd as readFd,
  sendDelivered,
  sendFd as writeFd,
  socketPairFds as makeSocketPair,
} from "./_sockets.ts";
import { countFds, fdOpenedBy } from "./_fd_leak.ts";
import { forEachLoop, selectorOf } from "./_loops.ts";

const ONE = new Uint8Array([1]);

forEachLoop(["readers"], (lc, test) => {
  const L = lc.name;

  test(`${L}.addReader() calls back with its args when the fd is readable`, async () => {
    const before = countFds();
    const [a, b] = makeSocketPair();
    {
      using loop = lc.make();
      const seen: unknown[] = [];
      loop.addReader(
        a,
        (tag: string, n: number) => {
          const buf = new Uint8Array(8);
          seen.push([tag, n, readFd(a, buf)]);
          loop.stop();
        },
        "data",
        7,
      );
      loop.callLater(1, () => writeFd(b, ONE));
      await loop.runForever();
      assertEquals(seen, [["data", 7, 1]]);
      assert(loop.removeReader(a));
      assertEquals(loop.removeReader(a), false);
    }
    closeFd(a);
    closeFd(b);
    assertEquals(countFds(), before);
  });

  test(
    `${L}.addReader() a second time on the same fd replaces the callback`,
    async () => {
      const [a, b] = makeSocketPair();
      try {
        using loop = lc.make();
        const seen: string[] = [];
        loop.addReader(a, () => seen.push("first"));
        loop.addReader(a, () => {
          seen.push("second");
          readFd(a, new Uint8Array(8));
          loop.stop();
        });
        writeFd(b, ONE);
        await loop.runForever();
        assertEquals(seen, ["second"]);
        if (lc.caps.selector) assertEquals(selectorOf(loop).getMap().size, 1);
        assert(loop.removeReader(a));
        assertEquals(loop.removeReader(a), false);
        if (lc.caps.selector) assertEquals(selectorOf(loop).getMap().size, 0);
      } finally {
        closeFd(a);
        closeFd(b);
      }
    },
  );

  test(`${L}.addWriter() calls back when the fd is writable; removeWriter() stops it`, async () => {
    const [a, b] = makeSocketPair();
    try {
      using loop = lc.make();
      let calls = 0;
      loop.addWriter({ fileno: () => a }, () => {
        calls++;
        assert(loop.removeWriter(a));
        loop.callLater(2, () => loop.stop());
      });
      await loop.runForever();
      assertEquals(calls, 1);
      assertEquals(loop.removeWriter(a), false);
    } finally {
      closeFd(a);
      closeFd(b);
    }
  });

  test(
    `${L} watches one fd for reading and writing, and removes them apart`,
    async () => {
      const [a, b] = makeSocketPair();
      try {
        using loop = lc.make();
        const seen: string[] = [];
        loop.addWriter(a, () => {
          seen.push("w");
          loop.removeWriter(a);
          writeFd(b, ONE);
        });
        loop.addReader(a, () => {
          seen.push("r");
          readFd(a, new Uint8Array(8));
          loop.stop();
        });
        if (lc.caps.selector) assertEquals(selectorOf(loop).getKey(a).events, 3);
        await loop.runForever();
        assertEquals(seen, ["w", "r"]);
        if (lc.caps.selector) assertEquals(selectorOf(loop).getKey(a).events, 1);
        assertEquals(loop.removeWriter(a), false);
        assert(loop.removeReader(a));
        if (lc.caps.selector) assertThrows(() => selectorOf(loop).getKey(a));
      } finally {
        closeFd(a);
        closeFd(b);
      }
    },
  );

  // Deno's file handles are found by scanning Unix fds (tests/_fd_leak.ts): Unix only.
  test(`${L}.addReader() refuses a regular file and a directory, naming Deno's file APIs`, [
    "selector",
    "unixFds",
  ], () => {
    using loop = lc.make();
    const path = Deno.makeTempFileSync();
    const dir = Deno.makeTempDirSync();
    let file: Deno.FsFile | undefined, dirFile: Deno.FsFile | undefined;
    try {
      const fd = fdOpenedBy(() => file = Deno.openSync(path, { read: true }));
      const e = assertThrows(() => loop.addReader(fd, () => {}), TypeError, `fd ${fd}`);
      assert(e.message.includes("cannot be used to monitor file I/O"), e.message);
      assert(e.message.includes("Deno"), e.message);
      assertThrows(() => loop.addWriter(fd, () => {}), TypeError, "monitor file I/O");
      const dfd = fdOpenedBy(() => dirFile = Deno.openSync(dir, { read: true }));
      assertThrows(() => loop.addReader(dfd, () => {}), TypeError, "directory");
      assertEquals(selectorOf(loop).getMap().size, 0);
    } finally {
      file?.close();
      dirFile?.close();
      Deno.removeSync(path);
      Deno.removeSync(dir);
    }
  });

  test(`${L}.addReader() fails clearly on a closed or invalid fd`, () => {
    using loop = lc.make();
    const [a, b] = makeSocketPair();
    closeFd(a);
    closeFd(b);
    assertThrows(() => loop.addReader(a, () => {}), Deno.errors.BadResource);
    // deno-lint-ignore no-explicit-any
    const l = loop as any;
    assertThrows(() => l.addReader(-1, () => {}), RangeError);
    assertThrows(() => l.addReader("3", () => {}), TypeError);
    assertThrows(() => l.addReader(1.5, () => {}), TypeError);
    assertThrows(() => l.addReader(null, () => {}), TypeError);
    assertThrows(() => l.addReader({ fileno: () => "x" }, () => {}), TypeError);
    assertThrows(() => l.addReader(0, 42), TypeError);
    if (lc.caps.selector) assertEquals(selectorOf(loop).getMap().size, 0);
    assertEquals(loop.removeReader(12345), false);
  });

  test(`${L} reader calls and removal on a closed loop`, () => {
    const [a, b] = makeSocketPair();
    try {
      const loop = lc.make();
      loop.addReader(a, () => {});
      loop.close();
      assertEquals(loop.removeReader(a), false);
      assertEquals(loop.removeWriter(a), false);
      assertThrows(() => loop.addReader(a, () => {}), Error, "Event loop is closed");
    } finally {
      closeFd(a);
      closeFd(b);
    }
  });

  test(
    `${L} drops a reader whose handle was cancelled at its next event`,
    async () => {
      const [a, b] = makeSocketPair();
      try {
        using loop = lc.make();
        let calls = 0;
        const h = loop.addReader(a, () => calls++);
        h.cancel();
        assert(sendDelivered(b, ONE, a));
        loop.callLater(5, () => loop.stop());
        await loop.runForever();
        assertEquals(calls, 0);
        if (lc.caps.selector) assertEquals(selectorOf(loop).getMap().size, 0);
        assertEquals(loop.removeReader(a), false); // dropped at that event
      } finally {
        closeFd(a);
        closeFd(b);
      }
    },
  );
});
