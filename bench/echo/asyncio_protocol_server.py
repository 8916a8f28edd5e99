"""Echo server, asyncio protocol style (`loop.create_server` + `Protocol`).

Run: python3 bench/echo/asyncio_protocol_server.py [--uvloop] [--buffered] [--port=0]
--buffered: a BufferedProtocol reading into a 256 KiB buffer of its own.
SIGUSR2 prints the RSS; SIGTERM exits.
"""
import asyncio
import json
import signal
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


class BufferedEcho(asyncio.BufferedProtocol):
    # One buffer per connection: uvloop's write() keeps a reference to what it could not
    # send at once instead of copying it, so a buffer shared by connections gets
    # overwritten under a pending write (it did: the echo checker caught it).
    def __init__(self):
        self.buf = bytearray(256 * 1024)
        self.view = memoryview(self.buf)

    def connection_made(self, transport):
        self.transport = transport

    def get_buffer(self, sizehint):
        return self.buf

    def buffer_updated(self, nbytes):
        self.transport.write(self.view[:nbytes])


def port_arg():
    for a in sys.argv[1:]:
        if a.startswith("--port="):
            return int(a[7:])
    return 0


def report_memory():
    with open("/proc/self/status") as f:
        rss = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmRSS:"))
    print(json.dumps({"mem": {"rss": rss}}), flush=True)


async def main():
    loop = asyncio.get_running_loop()
    factory = BufferedEcho if "--buffered" in sys.argv else Echo
    server = await loop.create_server(factory, "127.0.0.1", port_arg(), backlog=1024)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    loop.add_signal_handler(signal.SIGUSR2, report_memory)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await stop
    server.close()


if "--uvloop" in sys.argv:
    import uvloop

    uvloop.install()
asyncio.run(main())
