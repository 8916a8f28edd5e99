"""64-byte ping-pong on one loopback TCP connection with asyncio's
sock_recv_into/sock_sendall, client and server in the same loop (peer of
bench/loop_sock_pingpong.ts, which uses sockRecvInto/sockSendall).

Run: python3 bench/peers/asyncio_sock_pingpong.py [--n=20000]
"""
import asyncio
import socket
import time

from _peer import int_arg, percentile, report

MSG = 64


async def read_full(loop, sock, buf):
    view = memoryview(buf)
    got = 0
    while got < len(buf):
        k = await loop.sock_recv_into(sock, view[got:])
        if k == 0:
            raise EOFError("unexpected EOF")
        got += k


async def pingpong(loop, client, server, n):
    async def echo():
        buf = bytearray(MSG)
        for _ in range(n):
            await read_full(loop, server, buf)
            await loop.sock_sendall(server, buf)

    echo_task = loop.create_task(echo())
    msg, buf = b"x" * MSG, bytearray(MSG)
    lat = [0.0] * n
    for i in range(n):
        t = time.perf_counter()
        await loop.sock_sendall(client, msg)
        await read_full(loop, client, buf)
        lat[i] = time.perf_counter() - t
    await echo_task
    return lat


async def main(n):
    loop = asyncio.get_running_loop()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen()
    lsock.setblocking(False)
    client = socket.socket()
    client.setblocking(False)
    accepted = loop.create_task(loop.sock_accept(lsock))
    await loop.sock_connect(client, lsock.getsockname())
    server, _ = await accepted
    for s in (client, server):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await pingpong(loop, client, server, -(-n // 10))
    t0 = time.perf_counter()
    lat = await pingpong(loop, client, server, n)
    ms = (time.perf_counter() - t0) * 1000
    for s in (client, server, lsock):
        s.close()
    report({
        "workload": "sock_pingpong",
        "impl": "asyncio",
        "n": n,
        "ms": ms,
        "perSec": n / (ms / 1000),
        "p50Us": percentile(lat, 50) * 1e6,
        "p99Us": percentile(lat, 99) * 1e6,
    })


asyncio.run(main(int_arg("n", 20_000)))
