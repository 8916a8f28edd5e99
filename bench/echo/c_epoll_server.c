/*
 * The practical ceiling: a single-threaded, level-triggered epoll echo
 * server in plain C. Reads into one shared buffer and writes straight back;
 * what the socket does not take is kept per connection, and reading that
 * connection pauses until it is sent (so a slow reader can't grow it).
 *
 *   c_epoll_server [--port=0]    prints {"port":P}; exits 0 on SIGTERM.
 *
 * Build: gcc -O2 -o c_epoll_server c_epoll_server.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  int fd;
  uint8_t *pend;  /* bytes read but not yet written back */
  size_t pend_off, pend_len;
} conn_t;

#define BUF (256 * 1024)
static uint8_t buf[BUF];
static volatile sig_atomic_t stop, report;
static int listener_tag; /* the listening socket's epoll data points here */

static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

static void on_usr2(int sig) {
  (void)sig;
  report = 1;
}

/* The memory benchmark's request: one JSON line with VmRSS. */
static void report_memory(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f)) {
    if (!strncmp(line, "VmRSS:", 6)) kib = atol(line + 6);
  }
  if (f) fclose(f);
  printf("{\"mem\":{\"rss\":%ld}}\n", kib * 1024);
  fflush(stdout);
}

static void drop(int ep, conn_t *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->pend);
  free(c);
}

static void set_events(int ep, conn_t *c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends the pending bytes; returns -1 on error, else how many are left. */
static ssize_t flush(conn_t *c) {
  while (c->pend_len > 0) {
    ssize_t n = send(c->fd, c->pend + c->pend_off, c->pend_len, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR ? (ssize_t)c->pend_len : -1;
    c->pend_off += (size_t)n;
    c->pend_len -= (size_t)n;
  }
  return 0;
}

static void on_readable(int ep, conn_t *c) {
  ssize_t n = recv(c->fd, buf, BUF, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    drop(ep, c);
    return;
  }
  if (n < 0) return;
  ssize_t w = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL);
  if (w < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      drop(ep, c);
      return;
    }
    w = 0;
  }
  if (w == n) return;
  c->pend = realloc(c->pend, (size_t)(n - w));
  memcpy(c->pend, buf + w, (size_t)(n - w));
  c->pend_off = 0;
  c->pend_len = (size_t)(n - w);
  set_events(ep, c, EPOLLOUT);
}

static void on_writable(int ep, conn_t *c) {
  ssize_t left = flush(c);
  if (left < 0) drop(ep, c);
  else if (left == 0) set_events(ep, c, EPOLLIN);
}

int main(int argc, char **argv) {
  int port = 0;
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], "--port=", 7)) port = atoi(argv[i] + 7);
  }
  struct sigaction sa = {.sa_handler = on_term};
  sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: epoll_wait returns EINTR */
  sigaction(SIGINT, &sa, NULL);
  struct sigaction su = {.sa_handler = on_usr2};
  sigaction(SIGUSR2, &su, NULL);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 1024) < 0) {
    perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &len);
  printf("{\"port\":%d}\n", ntohs(addr.sin_port));
  fflush(stdout);

  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listener_tag};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event evs[256];
  while (!stop) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (report) {
      report = 0;
      report_memory();
    }
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr == &listener_tag) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn_t *c = calloc(1, sizeof *c);
          c->fd = fd;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & EPOLLOUT) on_writable(ep, c);
      else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(ep, c);
    }
  }
  close(lfd);
  return 0;
}
