/*
 * UDP echo load client: one thread, epoll, N nonblocking UDP sockets, each
 * connect()ed to the server. Each socket sends a SIZE-byte datagram (an
 * 8-byte sequence number, then a pattern), waits for its echo (checking
 * every byte and the sequence number), then sends the next. A datagram not
 * echoed within 200 ms counts as lost and the socket sends the next one.
 * After a warm-up it counts the round trips finished in the measured window
 * and prints one JSON line: datagrams/s (round trips), p50/p99 latency
 * (send -> echo), lost, bad (wrong bytes), and its own CPU use.
 *
 *   udp_load_client --port=P [--clients=10] [--size=64] [--duration=2] [--warmup=0.5]
 *
 * Build: gcc -O2 -o udp_load_client udp_load_client.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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
  uint64_t seq;
  uint64_t t0;
} client_t;

static int port = 0, nclients = 10;
static size_t size = 64;
static double duration = 2, warmup = 0.5;
#define TIMEOUT_NS 200000000ull

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static void fill(uint8_t *buf, int idx, uint64_t seq) {
  memcpy(buf, &seq, size < 8 ? size : 8);
  for (size_t i = 8; i < size; i++) buf[i] = (uint8_t)((i + (size_t)idx * 17 + seq) % 251);
}

static int cmp32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strncmp(a, "--port=", 7)) port = atoi(a + 7);
    else if (!strncmp(a, "--clients=", 10)) nclients = atoi(a + 10);
    else if (!strncmp(a, "--size=", 7)) size = (size_t)atol(a + 7);
    else if (!strncmp(a, "--duration=", 11)) duration = atof(a + 11);
    else if (!strncmp(a, "--warmup=", 9)) warmup = atof(a + 9);
    else { fprintf(stderr, "unknown argument %s\n", a); return 2; }
  }
  if (port <= 0 || nclients < 1 || size < 8 || size > 65000) {
    fprintf(stderr, "need --port, --clients >= 1, 8 <= --size <= 65000\n");
    return 2;
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  int ep = epoll_create1(0);
  client_t *cs = calloc((size_t)nclients, sizeof *cs);
  uint8_t *out = malloc(size), *want = malloc(size), *in = malloc(65536);
  size_t caplat = 1 << 20, nlat = 0;
  uint32_t *lat = malloc(caplat * sizeof *lat);
  for (int i = 0; i < nclients; i++) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("socket"); return 1; }
    cs[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  uint64_t start = now_ns();
  uint64_t t_measure = start + (uint64_t)(warmup * 1e9);
  uint64_t t_end = t_measure + (uint64_t)(duration * 1e9);
  uint64_t done = 0, lost = 0, bad = 0;
  double cpu0 = 0;
  int measuring = 0;
  for (int i = 0; i < nclients; i++) {
    fill(out, i, 0);
    cs[i].t0 = now_ns();
    if (send(cs[i].fd, out, size, 0) < 0 && errno != EAGAIN) { perror("send"); return 1; }
  }
  struct epoll_event evs[256];
  uint64_t last_sweep = start;
  for (;;) {
    uint64_t t = now_ns();
    if (!measuring && t >= t_measure) { measuring = 1; cpu0 = cpu_s(); }
    if (t >= t_end) break;
    int n = epoll_wait(ep, evs, 256, 10);
    for (int k = 0; k < n; k++) {
      client_t *c = &cs[evs[k].data.u32];
      int idx = (int)evs[k].data.u32;
      for (;;) {
        ssize_t r = recv(c->fd, in, 65536, 0);
        if (r < 0) {
          if (errno == EAGAIN) break;
          if (errno == ECONNREFUSED) break;
          perror("recv");
          return 1;
        }
        uint64_t seq;
        memcpy(&seq, in, 8);
        if (seq != c->seq) continue; /* a late echo of a datagram counted lost */
        fill(want, idx, c->seq);
        if ((size_t)r != size || memcmp(in, want, size) != 0) bad++;
        uint64_t t1 = now_ns();
        if (measuring && t1 < t_end) {
          done++;
          if (nlat < caplat) lat[nlat++] = (uint32_t)((t1 - c->t0) > 0xffffffffu ? 0xffffffffu : (t1 - c->t0));
        }
        c->seq++;
        fill(out, idx, c->seq);
        c->t0 = t1;
        send(c->fd, out, size, 0);
      }
    }
    t = now_ns();
    if (t - last_sweep > 20000000ull) {
      last_sweep = t;
      for (int i = 0; i < nclients; i++) {
        if (t - cs[i].t0 > TIMEOUT_NS) {
          if (t >= t_measure) lost++;
          cs[i].seq++;
          fill(out, i, cs[i].seq);
          cs[i].t0 = t;
          send(cs[i].fd, out, size, 0);
        }
      }
    }
  }
  double cpu = cpu_s() - cpu0;
  qsort(lat, nlat, sizeof *lat, cmp32);
  double p50 = nlat ? lat[nlat / 2] / 1e3 : 0, p99 = nlat ? lat[(size_t)(nlat * 0.99)] / 1e3 : 0;
  printf("{\"rps\":%.1f,\"p50Us\":%.1f,\"p99Us\":%.1f,\"done\":%llu,\"lost\":%llu,\"bad\":%llu,"
         "\"clientCpu\":%.3f}\n",
         done / duration, p50, p99, (unsigned long long)done, (unsigned long long)lost,
         (unsigned long long)bad, cpu / duration);
  return 0;
}
