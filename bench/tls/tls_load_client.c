/*
 * TLS echo load client: one thread per connection, blocking sockets,
 * OpenSSL (TLS 1.3, no verification: the benchmark is about the servers).
 * Each connection sends a message of `size` bytes, reads the whole echo
 * back (checking every byte), and sends the next. Round trips finished in
 * the measured window (after the warm-up) are counted; prints one JSON
 * line: {"rps":..,"mibps":..,"p50Us":..,"p99Us":..}.
 *
 * Build: gcc -O2 -Wall -o tls_load_client tls_load_client.c -lssl -lcrypto -lpthread
 * Run:   tls_load_client PORT CONNS SIZE DURATION_S WARMUP_S
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, conns, size;
static double duration, warmup;
static SSL_CTX *ctx;
static atomic_int phase; /* 0 warm-up, 1 measuring, 2 done */
static atomic_long done_trips;
#define MAXLAT 2000000
static float *lat;
static atomic_long nlat;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void *worker(void *arg) {
  long id = (long)arg;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(2); }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SSL *ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  if (SSL_connect(ssl) != 1) { ERR_print_errors_fp(stderr); exit(2); }
  unsigned char *out = malloc(size), *in = malloc(size);
  for (int i = 0; i < size; i++) out[i] = (unsigned char)(i * 131 + id);
  while (atomic_load(&phase) != 2) {
    double t0 = now();
    int off = 0;
    while (off < size) {
      int n = SSL_write(ssl, out + off, size - off);
      if (n <= 0) { ERR_print_errors_fp(stderr); exit(3); }
      off += n;
    }
    off = 0;
    while (off < size) {
      int n = SSL_read(ssl, in + off, size - off);
      if (n <= 0) { ERR_print_errors_fp(stderr); exit(4); }
      off += n;
    }
    if (memcmp(in, out, size) != 0) { fprintf(stderr, "echo mismatch\n"); exit(5); }
    if (atomic_load(&phase) == 1) {
      atomic_fetch_add(&done_trips, 1);
      long k = atomic_fetch_add(&nlat, 1);
      if (k < MAXLAT) lat[k] = (float)((now() - t0) * 1e6);
    }
  }
  SSL_shutdown(ssl);
  SSL_free(ssl);
  close(fd);
  return NULL;
}

static int cmp(const void *x, const void *y) {
  float a = *(const float *)x, b = *(const float *)y;
  return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: PORT CONNS SIZE DURATION WARMUP\n"); return 1; }
  port = atoi(argv[1]); conns = atoi(argv[2]); size = atoi(argv[3]);
  duration = atof(argv[4]); warmup = atof(argv[5]);
  lat = malloc(sizeof(float) * MAXLAT);
  ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  pthread_t th[1024];
  for (long i = 0; i < conns; i++) pthread_create(&th[i], NULL, worker, (void *)i);
  struct timespec w = {(time_t)warmup, (long)((warmup - (time_t)warmup) * 1e9)};
  nanosleep(&w, NULL);
  atomic_store(&phase, 1);
  double t0 = now();
  struct timespec d = {(time_t)duration, (long)((duration - (time_t)duration) * 1e9)};
  nanosleep(&d, NULL);
  long trips = atomic_load(&done_trips);
  double el = now() - t0;
  long n = atomic_load(&nlat);
  atomic_store(&phase, 2);
  for (int i = 0; i < conns; i++) pthread_join(th[i], NULL);
  if (n > MAXLAT) n = MAXLAT;
  qsort(lat, n, sizeof(float), cmp);
  double rps = trips / el;
  printf("{\"rps\":%.1f,\"mibps\":%.2f,\"p50Us\":%.1f,\"p99Us\":%.1f}\n", rps,
         rps * size / 1048576.0, n ? lat[n / 2] : 0.0, n ? lat[(long)(n * 0.99)] : 0.0);
  return 0;
}
