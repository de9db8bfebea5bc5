/*
 * futex-pingpong: the bare wake-to-run cost of a futex handoff, as a floor for
 * `pvbench workload schbench` wakeup latencies.
 *
 * A waker thread takes one CLOCK_MONOTONIC stamp, posts the sleeper's futex word and
 * wakes it; the sleeper reads the clock on return from FUTEX_WAIT and records
 * now - stamp. The sleeper then sleeps SLEEP_US (like a request's usleep) and posts
 * the waker back. No matrices, no locks, no histograms: a sorted array of samples.
 *
 * usage: futex-pingpong SECONDS [SLEEP_US]
 * prints: samples=N p50_ns=… p90_ns=… p99_ns=… p999_ns=…
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t sleeper_word, waker_word;
static uint64_t stamp;
static volatile int done;
static uint64_t *samples;
static size_t count, capacity;
static long sleep_us;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* 0 = armed, 1 = posted, 2 = armed with a sleeper */
static void post(uint32_t *word) {
  if (__atomic_exchange_n(word, 1, __ATOMIC_ACQ_REL) == 2)
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void wait_posted(uint32_t *word) {
  for (;;) {
    uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    if (v == 1) break;
    if (v == 0) {
      uint32_t expected = 0;
      __atomic_compare_exchange_n(word, &expected, 2, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
      continue;
    }
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
  }
  __atomic_store_n(word, 0, __ATOMIC_RELEASE);
}

static void *sleeper(void *arg) {
  (void)arg;
  while (!done) {
    wait_posted(&sleeper_word);
    uint64_t t = now_ns();
    if (done) break;
    if (count < capacity) samples[count++] = t - __atomic_load_n(&stamp, __ATOMIC_ACQUIRE);
    if (sleep_us > 0) usleep((useconds_t)sleep_us);
    post(&waker_word);
  }
  return NULL;
}

static int compare(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: futex-pingpong SECONDS [SLEEP_US]\n");
    return 2;
  }
  double seconds = atof(argv[1]);
  sleep_us = argc > 2 ? atol(argv[2]) : 0;
  capacity = 50000000;
  samples = malloc(capacity * sizeof(uint64_t));
  pthread_t thread;
  pthread_create(&thread, NULL, sleeper, NULL);
  uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
  while (now_ns() < end) {
    __atomic_store_n(&stamp, now_ns(), __ATOMIC_RELEASE);
    post(&sleeper_word);
    wait_posted(&waker_word);
  }
  done = 1;
  post(&sleeper_word);
  pthread_join(thread, NULL);
  qsort(samples, count, sizeof(uint64_t), compare);
#define AT(p) samples[(size_t)((double)(count - 1) * (p) / 100.0)]
  printf("samples=%zu p50_ns=%llu p90_ns=%llu p99_ns=%llu p999_ns=%llu\n", count,
         (unsigned long long)AT(50), (unsigned long long)AT(90), (unsigned long long)AT(99),
         (unsigned long long)AT(99.9));
  return 0;
}
