/*
 * Echo load client: one thread, epoll, nonblocking sockets. Each of N
 * connections sends a SIZE-byte message, waits for all SIZE bytes to come
 * back (checking every byte), then sends the next (ping-pong). After a
 * warm-up it counts the round trips finished in the measured window and
 * prints one JSON line: requests/s, MiB/s (message bytes echoed per second,
 * one direction) and p50/p99/p99.9 latency (first byte sent -> last byte back).
 *
 *   load_client --port=P [--host=127.0.0.1] [--conns=10] [--size=64]
 *               [--duration=1.5] [--warmup=0.5]
 *   load_client --port=P --idle=10000     memory mode: open the connections,
 *               echo one byte on each, print {"ready":N}, idle until stdin closes.
 *
 * Build: gcc -O2 -o load_client load_client.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  int idx;
  uint64_t seq;   /* messages started on this connection */
  size_t sent;    /* bytes of the current message written */
  size_t recvd;   /* bytes of the current message echoed back and checked */
  size_t off;     /* where the current message starts in the pattern */
  uint64_t t0;    /* when its first byte went out (ns) */
  int out_armed;  /* EPOLLOUT registered */
  int active;     /* a message is in flight */
} conn_t;

static const char *host = "127.0.0.1";
static int port = 0, nconns = 10, idle = 0;
static size_t size = 64;
static double duration = 1.5, warmup = 0.5;

static uint8_t *pattern;  /* size + 256 bytes; message k of conn c starts at (c*17+k) % 251 */
static uint8_t *scratch;  /* receive buffer */
#define SCRATCH (256 * 1024)

static uint32_t *lat;     /* latencies (ns) of the measured round trips */
static size_t nlat, caplat;

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

static void fail(const char *what, int conn, const char *detail) {
  printf("{\"error\":\"%s\",\"conn\":%d,\"detail\":\"%s\"}\n", what, conn, detail);
  fflush(stdout);
  exit(2);
}

static int connect_one(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("socket", -1, strerror(errno));
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) fail("bad host", -1, host);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) fail("connect", -1, strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void arm(int ep, conn_t *c, int out) {
  if (c->out_armed == out) return;
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) fail("epoll_ctl", c->idx, strerror(errno));
  c->out_armed = out;
}

/* Writes what the socket takes of the current message; EPOLLOUT covers the rest. */
static void pump_out(int ep, conn_t *c) {
  while (c->sent < size) {
    ssize_t n = send(c->fd, pattern + c->off + c->sent, size - c->sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      fail("send", c->idx, strerror(errno));
    }
    c->sent += (size_t)n;
  }
  arm(ep, c, c->sent < size);
}

static void start_message(int ep, conn_t *c) {
  c->off = ((size_t)c->idx * 17 + c->seq) % 251;
  c->seq++;
  c->sent = c->recvd = 0;
  c->active = 1;
  c->t0 = now_ns();
  pump_out(ep, c);
}

static void record(uint64_t ns) {
  if (nlat == caplat) {
    caplat = caplat ? caplat * 2 : 1 << 16;
    lat = realloc(lat, caplat * sizeof *lat);
    if (!lat) fail("out of memory", -1, "");
  }
  lat[nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* Reads and checks echoed bytes; returns 1 when the message is complete. */
static int pump_in(conn_t *c) {
  while (c->recvd < size) {
    size_t want = size - c->recvd;
    if (want > SCRATCH) want = SCRATCH;
    ssize_t n = recv(c->fd, scratch, want, 0);
    if (n == 0) fail("server closed the connection", c->idx, "");
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return 0;
      fail("recv", c->idx, strerror(errno));
    }
    if (!c->active || (size_t)n > c->sent - c->recvd) {
      fail("more bytes echoed than sent", c->idx, "");
    }
    if (memcmp(scratch, pattern + c->off + c->recvd, (size_t)n) != 0) {
      fail("echoed bytes differ from the bytes sent", c->idx, "");
    }
    c->recvd += (size_t)n;
  }
  return 1;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(double p) {
  if (nlat == 0) return 0;
  size_t i = (size_t)(p * (double)(nlat - 1) + 0.5);
  return lat[i] / 1000.0;
}

static void run_idle(void) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  int *fds = calloc((size_t)idle, sizeof *fds);
  uint8_t b = 'x';
  /* Batches of 100 stay under every server's listen backlog; the one-byte echo proves the
   * server accepted the connection and set it up for reading. */
  for (int base = 0; base < idle; base += 100) {
    int end = base + 100 < idle ? base + 100 : idle;
    for (int i = base; i < end; i++) {
      fds[i] = connect_one();
      if (send(fds[i], &b, 1, MSG_NOSIGNAL) != 1) fail("send", i, strerror(errno));
    }
    for (int i = base; i < end; i++) {
      struct pollfd p = {.fd = fds[i], .events = POLLIN};
      if (poll(&p, 1, 10000) != 1) fail("no echo within 10 s", i, "");
      uint8_t got;
      if (recv(fds[i], &got, 1, 0) != 1 || got != b) fail("bad echo", i, "");
    }
  }
  printf("{\"ready\":%d}\n", idle);
  fflush(stdout);
  char tmp[64];
  while (read(0, tmp, sizeof tmp) > 0) {
  }
  for (int i = 0; i < idle; i++) close(fds[i]);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strncmp(a, "--host=", 7)) host = a + 7;
    else if (!strncmp(a, "--port=", 7)) port = atoi(a + 7);
    else if (!strncmp(a, "--conns=", 8)) nconns = atoi(a + 8);
    else if (!strncmp(a, "--size=", 7)) size = (size_t)atol(a + 7);
    else if (!strncmp(a, "--duration=", 11)) duration = atof(a + 11);
    else if (!strncmp(a, "--warmup=", 9)) warmup = atof(a + 9);
    else if (!strncmp(a, "--idle=", 7)) idle = atoi(a + 7);
    else {
      fprintf(stderr, "unknown argument %s\n", a);
      return 1;
    }
  }
  if (port <= 0 || nconns <= 0 || size == 0) {
    fprintf(stderr, "usage: load_client --port=P [--conns=N] [--size=B] [--duration=S]\n");
    return 1;
  }
  if (idle > 0) {
    run_idle();
    return 0;
  }

  pattern = malloc(size + 256);
  scratch = malloc(SCRATCH);
  for (size_t i = 0; i < size + 256; i++) pattern[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + 1);

  int ep = epoll_create1(0);
  conn_t *conns = calloc((size_t)nconns, sizeof *conns);
  for (int i = 0; i < nconns; i++) {
    conn_t *c = &conns[i];
    c->fd = connect_one();
    c->idx = i;
    set_nonblocking(c->fd);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) fail("epoll_ctl", i, strerror(errno));
  }

  uint64_t t_start = now_ns();
  uint64_t t_measure = t_start + (uint64_t)(warmup * 1e9);
  uint64_t t_end = t_measure + (uint64_t)(duration * 1e9);
  uint64_t requests = 0;
  int stopping = 0, inflight = nconns;
  for (int i = 0; i < nconns; i++) start_message(ep, &conns[i]);

  struct epoll_event evs[256];
  uint64_t t_drain_limit = 0, cpu0 = 0, cpu1 = 0;
  int measuring = 0;
  while (inflight > 0) {
    uint64_t t = now_ns();
    if (!measuring && t >= t_measure) {
      measuring = 1;
      cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    }
    if (!stopping && t >= t_end) {
      stopping = 1;
      cpu1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
      t_drain_limit = t + 3000000000ull;
    }
    if (stopping && t >= t_drain_limit) fail("echoes still missing 3 s after the end", -1, "");
    int n = epoll_wait(ep, evs, 256, 10);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait", -1, strerror(errno));
    }
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLIN)) {
        fail("connection error", c->idx, "EPOLLERR/EPOLLHUP");
      }
      if (evs[i].events & EPOLLOUT) pump_out(ep, c);
      if (!(evs[i].events & EPOLLIN) || !pump_in(c)) continue;
      uint64_t done = now_ns();
      if (done >= t_measure && done < t_end) {
        requests++;
        record(done - c->t0);
      }
      c->active = 0;
      if (!stopping && done < t_end) start_message(ep, c);
      else inflight--;
    }
  }
  if (cpu1 == 0) cpu1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID); /* the last echo ended the loop */
  for (int i = 0; i < nconns; i++) close(conns[i].fd);

  qsort(lat, nlat, sizeof *lat, cmp_u32);
  double rps = (double)requests / duration;
  /* The client's own CPU use in the window: well under 1 means it was not the bottleneck. */
  double client_cpu = (double)(cpu1 - cpu0) / (duration * 1e9);
  printf(
      "{\"conns\":%d,\"size\":%zu,\"seconds\":%.3f,\"requests\":%llu,\"rps\":%.1f,"
      "\"mibps\":%.3f,\"p50Us\":%.1f,\"p99Us\":%.1f,\"p999Us\":%.1f,\"clientCpu\":%.3f}\n",
      nconns, size, duration, (unsigned long long)requests, rps,
      rps * (double)size / (1024.0 * 1024.0), pct(0.5), pct(0.99), pct(0.999), client_cpu);
  return 0;
}
