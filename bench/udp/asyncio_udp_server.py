"""UDP echo server, asyncio (`loop.create_datagram_endpoint` + `DatagramProtocol`).

Run: python3 bench/udp/asyncio_udp_server.py [--uvloop] [--port=0]
SIGTERM exits.
"""
import asyncio
import json
import signal
import sys


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


def port_arg():
    for a in sys.argv[1:]:
        if a.startswith("--port="):
            return int(a[7:])
    return 0


async def main():
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", port_arg()))
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    print(json.dumps({"port": transport.get_extra_info("sockname")[1]}), flush=True)
    await stop
    transport.close()


if "--uvloop" in sys.argv:
    import uvloop

    uvloop.install()
asyncio.run(main())
