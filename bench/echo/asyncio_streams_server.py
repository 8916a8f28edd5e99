"""Echo server, asyncio streams style (`asyncio.start_server`, read/write/drain).

Run: python3 bench/echo/asyncio_streams_server.py [--uvloop] [--port=0]
SIGUSR2 prints the RSS; SIGTERM exits.
"""
import asyncio
import json
import signal
import sys


async def echo(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # a reset by the client at the end of a run
    finally:
        writer.close()


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
    server = await asyncio.start_server(echo, "127.0.0.1", port_arg(), backlog=1024)
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
