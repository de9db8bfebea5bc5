/*
 * pvbench portable agent: the schbench-equivalent (docs/workloads.md), the C twin of
 * Sources/Workloads/Schbench/SchbenchRun.swift.
 *
 * Message threads hand work to their workers through futexes on pthreads. Without -R a
 * worker pushes itself on its message thread's wake list and sleeps; the message thread
 * takes the whole list, stamps every worker with one clock reading and wakes them, and
 * each worker times its wakeup from that stamp. With -R the message thread posts each
 * second's requests in one burst. A request is a usleep and -n matrix multiplies under
 * the lock of the CPU the worker runs on. Every worker records into its own histograms
 * behind its own lock; the statistics thread swaps them out after each tick, so the hot
 * path shares no counter.
 */
#define _GNU_SOURCE
#include "hdr.h"
#include "workloads.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- primitives ---- */

/* Atomics, futexes, clocks, sleeps, affinity and the request's multiply are the Swift
 * workload's own shims (pvbench_shims.h), so both run the same machine code. */

/* A futex word with three states: 0 armed, 1 posted, 2 armed with a sleeper. */
static void post(uint32_t *word) {
  if (pvb_atomic_exchange_u32(word, 1) == 2) pvb_futex_wake(word, 1);
}

/* Returns once the word is posted. No wakeup is lost: the kernel re-checks the word
 * against 2 before sleeping. */
static void await(uint32_t *word) {
  for (;;) {
    uint32_t value = pvb_atomic_load_u32(word);
    if (value == 1) return;
    if (value == 0) {
      pvb_atomic_cas_u32(word, 0, 2);
      continue;
    }
    pvb_futex_wait(word, 2);
  }
}

/* Pins the calling thread to `cpus` (a failure leaves it where it was). */
static void pin(const int *cpus, size_t count) { pvb_set_affinity(0, cpus, (int)count); }

/* Three side×side matrices in one block, never initialised. From 128 KiB (glibc's
 * mmap threshold in a fresh schbench process) a mapping of its own, so the inputs read
 * as untouched zero pages as schbench's malloc gives them; below, the heap. */
struct matrices {
  uint64_t side;
  uint64_t *block;
  size_t mapped; /* bytes mapped, 0 when malloc'd */
};

enum { MAPPING_THRESHOLD = 128 * 1024 };

static bool matrices_init(struct matrices *m, int side) {
  size_t elements = 3 * (size_t)side * (size_t)side;
  size_t bytes = (elements == 0 ? 1 : elements) * sizeof(uint64_t);
  m->side = (uint64_t)side;
  m->mapped = 0;
  if (bytes >= MAPPING_THRESHOLD) {
    void *mapped = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m->block = mapped == MAP_FAILED ? NULL : mapped;
    m->mapped = bytes;
  } else {
    m->block = malloc(bytes);
  }
  return m->block != NULL;
}

static void matrices_free(struct matrices *m) {
  if (m->block == NULL) return;
  if (m->mapped > 0) {
    munmap(m->block, m->mapped);
  } else {
    free(m->block);
  }
  m->block = NULL;
}

/* ⌊√(KiB × 1024 / 3 / 8)⌋, schbench's rule. */
static int side_for_kilobytes(int kilobytes) {
  long elements = (long)(kilobytes > 0 ? kilobytes : 0) * 1024 / 3 / (long)sizeof(uint64_t);
  long side = 0;
  while ((side + 1) * (side + 1) <= elements) side++;
  return (int)side;
}

/* ---- the run ---- */

struct worker;

struct message {
  /* One cache line: futex word, wake list head, live workers, thread id. */
  _Alignas(64) uint32_t futex;
  uintptr_t head;
  uint64_t live;
  uint64_t tid;
  struct worker **workers;
  int worker_count;
  int index;
};

struct worker {
  /* One cache line, written by the message thread. */
  _Alignas(64) uint32_t futex;
  uint64_t stamp;
  uintptr_t next;
  uint64_t pending; /* -R requests queued */
  uint64_t tid;
  /* The samples, behind a lock only the statistics thread contends. */
  _Alignas(64) pthread_mutex_t lock;
  struct pva_hdr wakeup;
  struct pva_hdr request;
  uint64_t requests;
  struct message *message;
  int index;
};

struct accumulator {
  struct pva_hdr wakeup;
  struct pva_hdr request;
  uint64_t requests;
};

struct run {
  struct pva_schbench_options options;
  int message_cpus[CPU_SETSIZE];
  int worker_cpus[CPU_SETSIZE];
  int workers_per_message;
  int matrix_side;         /* each worker's own matrices */
  int split_private_side;  /* with --split */
  int split_shared_side;
  int split_private_operations;
  int split_shared_operations;
  uint64_t stream_ns;
  _Alignas(64) uint32_t stopping;
  struct message *messages;
  struct worker *workers;
  int worker_count;
  pthread_t *threads;
  int thread_count;
  pthread_t collector;
  uint32_t *cpu_locks; /* one word per 64 bytes */
  int cpu_lock_count;
  struct matrices shared;
};

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct run *current;

static bool is_stopping(struct run *run) { return pvb_atomic_load_u32(&run->stopping) != 0; }

/* Takes the whole wake list at once, stamps every worker with one reading, wakes them. */
static void wake_all(struct message *message) {
  uintptr_t node = pvb_atomic_exchange_uptr(&message->head, 0);
  if (node == 0) return;
  uint64_t now = pvb_monotonic_ns();
  while (node != 0) {
    struct worker *worker = (struct worker *)node;
    uintptr_t next = worker->next;
    worker->stamp = now;
    post(&worker->futex);
    node = next;
  }
}

static void push(struct worker *worker, struct message *message) {
  uintptr_t head;
  do {
    head = pvb_atomic_load_uptr(&message->head);
    worker->next = head;
  } while (!pvb_atomic_cas_uptr(&message->head, head, (uintptr_t)worker));
}

/* -R: at the start of each second that second's requests, one after another, round-robin
 * over the workers; then sleep out the second (BurstPacer.swift). */
static void run_pacer(struct run *run, struct message *message) {
  int rate = run->options.requests_per_second / run->options.message_threads;
  const uint64_t second = 1000000000u;
  int next = 0;
  while (!is_stopping(run)) {
    uint64_t second_start = pvb_monotonic_ns();
    for (int i = 0; i < rate; i++) {
      if (is_stopping(run)) break;
      uint64_t stamp = pvb_monotonic_ns();
      struct worker *worker = message->workers[next];
      next = (next + 1) % message->worker_count;
      /* A worker more than 128 requests behind gets none until it catches up. */
      if (pvb_atomic_load_u64(&worker->pending) > 128) {
        pvb_sleep_ns(100000);
        continue;
      }
      pvb_atomic_fetch_add_u64(&worker->pending, 1);
      pvb_atomic_store_u64(&worker->stamp, stamp);
      post(&worker->futex);
    }
    while (!is_stopping(run)) {
      uint64_t elapsed = pvb_monotonic_ns() - second_start;
      if (elapsed >= second) break;
      uint64_t rest = second - elapsed;
      pvb_sleep_ns(rest < 20000000u ? rest : 20000000u);
    }
  }
}

struct thread_start {
  struct run *run;
  int index;
};

static void *message_thread(void *argument) {
  struct thread_start *start = argument;
  struct run *run = start->run;
  struct message *message = &run->messages[start->index];
  free(start);
  pvb_atomic_store_u64(&message->tid, (uint64_t)pvb_gettid());
  if (run->options.message_cpus != NULL && run->options.message_cpu_count > 0) {
    /* schbench pins message thread i to the (i mod count)-th CPU of the list, alone. */
    pin(&run->message_cpus[(size_t)message->index % run->options.message_cpu_count], 1);
  }
  if (run->options.requests_per_second >= 0) {
    run_pacer(run, message);
    for (;;) {
      pvb_atomic_store_u32(&message->futex, 0);
      for (int i = 0; i < message->worker_count; i++) post(&message->workers[i]->futex);
      if (pvb_atomic_load_u64(&message->live) == 0) return NULL;
      await(&message->futex);
    }
  }
  for (;;) {
    pvb_atomic_store_u32(&message->futex, 0);
    wake_all(message);
    if (is_stopping(run) && pvb_atomic_load_u64(&message->live) == 0) return NULL;
    await(&message->futex);
  }
}

static bool take_pending(struct worker *worker) {
  if (pvb_atomic_load_u64(&worker->pending) == 0) return false;
  pvb_atomic_fetch_add_u64(&worker->pending, UINT64_MAX);
  return true;
}

/* A wakeup stamped after the worker woke (-R: the pacer stamped the next request in
 * between) is dropped, as schbench drops it; unsigned subtraction would record ~1.8e19. */
static void record(struct worker *worker, bool has_wakeup, uint64_t wakeup, bool has_request,
                   uint64_t request) {
  pthread_mutex_lock(&worker->lock);
  if (has_wakeup) pva_hdr_record(&worker->wakeup, wakeup, 1);
  if (has_request) {
    pva_hdr_record(&worker->request, request, 1);
    worker->requests += 1;
  }
  pthread_mutex_unlock(&worker->lock);
}

/* Spins for the lock of the CPU this thread runs on; a thread that migrated while it
 * waited lets that lock go and takes its new CPU's, so only one request computes on a
 * CPU at a time, as in schbench. */
static uint32_t *lock_this_cpu(struct run *run) {
  for (;;) {
    int cpu = sched_getcpu();
    if (cpu < 0) cpu = 0;
    cpu %= run->cpu_lock_count;
    uint32_t *word = &run->cpu_locks[16 * cpu];
    while (!pvb_atomic_cas_u32(word, 0, 1)) pvb_cpu_relax();
    int now = sched_getcpu();
    if ((now < 0 ? 0 : now) % run->cpu_lock_count == cpu) return word;
    pvb_atomic_store_u32(word, 0);
  }
}

static void do_work(struct run *run, struct matrices *own) {
  uint32_t *lock = run->options.locking ? lock_this_cpu(run) : NULL;
  if (run->options.split_percent >= 0) {
    if (run->shared.side > 0) {
      for (int i = 0; i < run->split_shared_operations; i++)
        pvb_matrix_multiply(run->shared.block, run->shared.side);
    }
    if (own->side > 0) {
      for (int i = 0; i < run->split_private_operations; i++)
        pvb_matrix_multiply(own->block, own->side);
    }
  } else if (own->side > 0) {
    for (int i = 0; i < run->options.operations; i++) pvb_matrix_multiply(own->block, own->side);
  }
  if (lock != NULL) pvb_atomic_store_u32(lock, 0);
}

static void *worker_thread(void *argument) {
  struct thread_start *start = argument;
  struct run *run = start->run;
  struct worker *worker = &run->workers[start->index];
  free(start);
  struct message *message = worker->message;
  pvb_atomic_store_u64(&worker->tid, (uint64_t)pvb_gettid());
  if (run->options.worker_cpus != NULL && run->options.worker_cpu_count > 0)
    pin(run->worker_cpus, run->options.worker_cpu_count);
  struct matrices own;
  bool have_matrices = matrices_init(&own, run->matrix_side);
  if (!have_matrices) own.side = 0;
  uint64_t sleep = (uint64_t)(run->options.sleep_microseconds > 0
                                  ? run->options.sleep_microseconds : 0) * 1000u;
  bool paced = run->options.requests_per_second >= 0;
  while (!is_stopping(run)) {
    bool has_wakeup = false;
    uint64_t wakeup = 0;
    if (paced) {
      if (!take_pending(worker)) {
        pvb_atomic_store_u32(&worker->futex, 0);
        /* As schbench does, stamp itself first: a post that leaves no stamp of its own
         * then measures from here, never from an older request's stamp. */
        pvb_atomic_store_u64(&worker->stamp, pvb_monotonic_ns());
        if (!take_pending(worker)) {
          await(&worker->futex);
          uint64_t now = pvb_monotonic_ns();
          if (is_stopping(run)) break;
          uint64_t stamp = pvb_atomic_load_u64(&worker->stamp);
          if (now >= stamp) record(worker, true, now - stamp, false, 0);
          continue;
        }
      }
    } else {
      pvb_atomic_store_u32(&worker->futex, 0);
      push(worker, message);
      post(&message->futex);
      await(&worker->futex);
      uint64_t now = pvb_monotonic_ns();
      if (is_stopping(run)) break;
      uint64_t stamp = pvb_atomic_load_u64(&worker->stamp);
      has_wakeup = now >= stamp;
      wakeup = now - stamp;
    }
    uint64_t request_start = pvb_monotonic_ns();
    if (sleep > 0) pvb_sleep_ns(sleep);
    do_work(run, &own);
    uint64_t request_end = pvb_monotonic_ns();
    record(worker, has_wakeup, wakeup, true, request_end - request_start);
  }
  matrices_free(&own);
  pvb_atomic_fetch_add_u64(&message->live, UINT64_MAX);
  post(&message->futex);
  return NULL;
}

/* ---- statistics ---- */

/* Mean run-queue wait per timeslice over the threads (schbench's `sched delay`), from
 * /proc/self/task/TID/schedstat; threads not yet running count as 0. */
static uint64_t sched_delay(uint64_t *const *tids, int count) {
  if (count == 0) return 0;
  uint64_t sum = 0;
  for (int i = 0; i < count; i++) {
    uint64_t tid = pvb_atomic_load_u64(tids[i]);
    if (tid == 0) continue;
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%llu/schedstat", (int)getpid(),
             (unsigned long long)tid);
    FILE *file = fopen(path, "r");
    if (file == NULL) continue;
    unsigned long long run_ns, wait_ns, slices;
    if (fscanf(file, "%llu %llu %llu", &run_ns, &wait_ns, &slices) == 3 && slices > 0)
      sum += wait_ns / slices;
    fclose(file);
  }
  return sum / (uint64_t)count;
}

static void sched_delays(struct run *run, uint64_t *message_delay, uint64_t *worker_delay) {
  int message_count = run->options.message_threads;
  uint64_t **tids = malloc(sizeof *tids * (size_t)(message_count + run->worker_count));
  if (tids == NULL) {
    *message_delay = *worker_delay = 0;
    return;
  }
  for (int i = 0; i < message_count; i++) tids[i] = &run->messages[i].tid;
  for (int i = 0; i < run->worker_count; i++) tids[message_count + i] = &run->workers[i].tid;
  *message_delay = sched_delay(tids, message_count);
  *worker_delay = sched_delay(tids + message_count, run->worker_count);
  free(tids);
}

/* The threads' `sched` counters (the core reads them under its root), while they exist:
   message threads first, then workers, the threads not yet running left out. */
static char *thread_sched(struct run *run) {
  int message_count = run->options.message_threads, count = 0;
  uint64_t *tids = calloc((size_t)(message_count + run->worker_count) + 1, sizeof *tids);
  for (int i = 0; tids && i < message_count; i++)
    if (pvb_atomic_load_u64(&run->messages[i].tid)) tids[count++] = pvb_atomic_load_u64(&run->messages[i].tid);
  for (int i = 0; tids && i < run->worker_count; i++)
    if (pvb_atomic_load_u64(&run->workers[i].tid)) tids[count++] = pvb_atomic_load_u64(&run->workers[i].tid);
  char *json = pva_thread_sched_json(tids ? tids : (uint64_t[]){0}, count);
  free(tids);
  return json;
}

static bool accumulator_init(struct accumulator *a) {
  a->requests = 0;
  bool wakeup = pva_hdr_init(&a->wakeup);
  bool request = pva_hdr_init(&a->request);
  return wakeup && request;
}

static void accumulator_reset(struct accumulator *a) {
  pva_hdr_reset(&a->wakeup);
  pva_hdr_reset(&a->request);
  a->requests = 0;
}

static void accumulator_free(struct accumulator *a) {
  pva_hdr_free(&a->wakeup);
  pva_hdr_free(&a->request);
}

/* The interval grid (IntervalGrid.swift): interval k covers [origin + k·length,
 * origin + (k+1)·length); boundaries the statistics thread slept through are counted
 * as missed intervals, never silently dropped. */
struct grid {
  uint64_t length;
  uint64_t limit;
  uint64_t next_boundary;
  long slot;
};

static void grid_close(struct grid *grid, uint64_t now, long *slot, long *missed) {
  long passed = 0;
  while (grid->next_boundary <= now) {
    if (grid->next_boundary <= grid->limit) passed += 1;
    grid->next_boundary += grid->length;
  }
  *slot = grid->slot;
  *missed = passed > 1 ? passed - 1 : 0;
  grid->slot += passed;
}

struct collector {
  struct run *run;
  uint64_t start;
  struct accumulator stream;
  uint64_t stream_start;
  long stream_index;
  struct grid grid;
  bool warming;
  struct accumulator totals;
  uint64_t totals_start;
  double *rps_samples;
  size_t rps_count;
  size_t rps_capacity;
  double current_rps;
  uint64_t all_requests;
  uint64_t second_requests;
  uint64_t second_start;
  struct pva_hdr spare_wakeup;
  struct pva_hdr spare_request;
};

static void add_rps_sample(struct collector *c, double sample) {
  if (c->rps_count == c->rps_capacity) {
    size_t capacity = c->rps_capacity == 0 ? 64 : 2 * c->rps_capacity;
    double *samples = realloc(c->rps_samples, capacity * sizeof *samples);
    if (samples == NULL) return;
    c->rps_samples = samples;
    c->rps_capacity = capacity;
  }
  c->rps_samples[c->rps_count++] = sample;
}

static void swap_hdr(struct pva_hdr *a, struct pva_hdr *b) {
  struct pva_hdr t = *a;
  *a = *b;
  *b = t;
}

static void drain(struct collector *c) {
  struct run *run = c->run;
  for (int i = 0; i < run->worker_count; i++) {
    struct worker *worker = &run->workers[i];
    pthread_mutex_lock(&worker->lock);
    swap_hdr(&worker->wakeup, &c->spare_wakeup);
    swap_hdr(&worker->request, &c->spare_request);
    uint64_t requests = worker->requests;
    worker->requests = 0;
    pthread_mutex_unlock(&worker->lock);
    pva_hdr_merge(&c->stream.wakeup, &c->spare_wakeup);
    pva_hdr_merge(&c->stream.request, &c->spare_request);
    c->stream.requests += requests;
    pva_hdr_merge(&c->totals.wakeup, &c->spare_wakeup);
    pva_hdr_merge(&c->totals.request, &c->spare_request);
    c->totals.requests += requests;
    c->second_requests += requests;
    c->all_requests += requests;
    pva_hdr_reset(&c->spare_wakeup);
    pva_hdr_reset(&c->spare_request);
  }
}

static void emit_text(struct pva_text *text) {
  if (!text->failed && text->data != NULL) pva_emit(text->data);
  pva_text_free(text);
}

/* One `interval` event with the keys of docs/agent-protocol.md, sorted as the Swift
 * agent writes them. */
static void emit_stream(struct collector *c, uint64_t now) {
  double length = (double)(now - c->stream_start) / 1e9;
  long slot, missed;
  grid_close(&c->grid, now, &slot, &missed);
  struct pva_text text = {0};
  pva_text_printf(&text, "{\"event\":\"interval\",\"interval\":{\"endMonotonicNanoseconds\":%llu,"
                  "\"index\":%ld,\"missedIntervals\":%ld,\"request\":",
                  (unsigned long long)now, c->stream_index, missed);
  pva_hdr_append_json(&c->stream.request, &text);
  pva_text_printf(&text, ",\"requests\":%llu,\"rps\":", (unsigned long long)c->stream.requests);
  pva_text_double(&text, length > 0 ? (double)c->stream.requests / length : 0);
  pva_text_printf(&text, ",\"slot\":%ld,\"startMonotonicNanoseconds\":%llu,\"wakeup\":", slot,
                  (unsigned long long)c->stream_start);
  pva_hdr_append_json(&c->stream.wakeup, &text);
  pva_text_printf(&text, ",\"warmup\":%s}}", c->warming ? "true" : "false");
  emit_text(&text);
  c->stream_index += 1;
  accumulator_reset(&c->stream);
  c->stream_start = now;
}

static void reset_totals(struct collector *c, uint64_t now) {
  accumulator_reset(&c->totals);
  c->rps_count = 0;
  c->totals_start = now;
}

/* A cpulist ("0-3,8") for the command line the result records. */
static void append_cpulist(struct pva_text *text, const int *cpus, size_t count) {
  pva_text_printf(text, ",\"");
  for (size_t i = 0; i < count;) {
    size_t j = i;
    while (j + 1 < count && cpus[j + 1] == cpus[j] + 1) j++;
    if (j > i) {
      pva_text_printf(text, "%s%d-%d", i == 0 ? "" : ",", cpus[i], cpus[j]);
    } else {
      pva_text_printf(text, "%s%d", i == 0 ? "" : ",", cpus[i]);
    }
    i = j + 1;
  }
  pva_text_printf(text, "\"");
}

/* The command line the Swift agent records: `pvbench workload schbench` and the long
 * flags of SchbenchOptions.arguments (no -j/-J: the agent is not given them). */
static void append_command_line(struct pva_text *text, const struct run *run) {
  const struct pva_schbench_options *o = &run->options;
  pva_text_printf(text, "[\"pvbench\",\"workload\",\"schbench\",\"--message-threads\",\"%d\"",
                  o->message_threads);
  if (o->workers_per_message_thread >= 0)
    pva_text_printf(text, ",\"--threads\",\"%d\"", o->workers_per_message_thread);
  pva_text_printf(text,
                  ",\"--runtime\",\"%d\",\"--warmuptime\",\"%d\",\"--intervaltime\",\"%d\","
                  "\"--sleep_usec\",\"%d\",\"--operations\",\"%d\",\"--cache_footprint\",\"%d\"",
                  o->runtime_seconds, o->warmup_seconds, o->interval_seconds,
                  o->sleep_microseconds, o->operations, o->cache_footprint_kilobytes);
  if (o->zero_seconds >= 0) pva_text_printf(text, ",\"--zerotime\",\"%d\"", o->zero_seconds);
  if (!o->locking) pva_text_printf(text, ",\"--no-locking\"");
  if (o->requests_per_second >= 0)
    pva_text_printf(text, ",\"--rps\",\"%d\"", o->requests_per_second);
  if (o->message_cpus != NULL) {
    pva_text_printf(text, ",\"--message-cpus\"");
    append_cpulist(text, run->message_cpus, o->message_cpu_count);
  }
  if (o->worker_cpus != NULL) {
    pva_text_printf(text, ",\"--worker-cpus\"");
    append_cpulist(text, run->worker_cpus, o->worker_cpu_count);
  }
  if (o->split_percent >= 0) pva_text_printf(text, ",\"--split\",\"%d\"", o->split_percent);
  pva_text_printf(text, "]");
}

/* `workload-done`: the cumulative result, keys as SchbenchResult encodes them. */
static void emit_done(struct collector *c, uint64_t stopped_at, uint64_t message_delay,
                      uint64_t worker_delay, const char *sched) {
  struct run *run = c->run;
  double seconds = (double)(stopped_at - c->totals_start) / 1e9;
  /* schbench's average: every request of the run over -r (the seconds run, if less). */
  double run_seconds = (double)(stopped_at - c->start) / 1e9;
  if ((double)run->options.runtime_seconds < run_seconds)
    run_seconds = (double)run->options.runtime_seconds;
  struct pva_text text = {0};
  pva_text_printf(&text, "{\"event\":\"workload-done\",\"result\":{\"averageRPS\":");
  pva_text_double(&text, run_seconds > 0 ? (double)c->all_requests / run_seconds : 0);
  pva_text_printf(&text, ",\"commandLine\":");
  append_command_line(&text, run);
  pva_text_printf(&text, ",\"currentRPS\":");
  pva_text_double(&text, c->current_rps);
  pva_text_printf(&text, ",\"messageSchedDelayNanoseconds\":%llu,\"request\":",
                  (unsigned long long)message_delay);
  pva_hdr_append_json(&c->totals.request, &text);
  pva_text_printf(&text, ",\"rpsSamples\":[");
  for (size_t i = 0; i < c->rps_count; i++) {
    if (i > 0) pva_text_printf(&text, ",");
    pva_text_double(&text, c->rps_samples[i]);
  }
  pva_text_printf(&text, "],\"runtimeSeconds\":");
  pva_text_double(&text, seconds);
  pva_text_printf(&text, ",\"wakeup\":");
  pva_hdr_append_json(&c->totals.wakeup, &text);
  pva_text_printf(&text, ",\"workerSchedDelayNanoseconds\":%llu,\"workersPerMessageThread\":%d},",
                  (unsigned long long)worker_delay, run->workers_per_message);
  pva_text_printf(&text, "\"sched\":%s}", sched);
  emit_text(&text);
}

static void stop_threads(struct run *run) {
  pvb_atomic_store_u32(&run->stopping, 1);
  for (int i = 0; i < run->options.message_threads; i++) post(&run->messages[i].futex);
  for (int i = 0; i < run->thread_count; i++) pthread_join(run->threads[i], NULL);
  run->thread_count = 0;
}

static void free_run(struct run *run) {
  for (int i = 0; i < run->worker_count; i++) {
    pthread_mutex_destroy(&run->workers[i].lock);
    pva_hdr_free(&run->workers[i].wakeup);
    pva_hdr_free(&run->workers[i].request);
  }
  for (int i = 0; i < run->options.message_threads && run->messages != NULL; i++)
    free(run->messages[i].workers);
  free(run->messages);
  free(run->workers);
  free(run->threads);
  free(run->cpu_locks);
  matrices_free(&run->shared);
  free(run);
}

static void *collector_thread(void *argument) {
  struct run *run = argument;
  const uint64_t second = 1000000000u;
  struct collector c = {.run = run};
  accumulator_init(&c.stream);
  accumulator_init(&c.totals);
  pva_hdr_init(&c.spare_wakeup);
  pva_hdr_init(&c.spare_request);
  uint64_t start = pvb_monotonic_ns();
  c.start = start;
  uint64_t end = start + (uint64_t)run->options.runtime_seconds * second;
  uint64_t warmup_end = start + (uint64_t)run->options.warmup_seconds * second;
  c.warming = run->options.warmup_seconds > 0;
  bool zeroing = run->options.zero_seconds >= 0;
  uint64_t zero_period = zeroing ? (uint64_t)run->options.zero_seconds * second : 0;
  uint64_t next_zero = (c.warming ? warmup_end : start) + zero_period;
  uint64_t next_second = start + second;
  /* Warmup intervals get negative slots, so slot 0 is the first measured interval. */
  long warmup_slots = (long)((uint64_t)run->options.warmup_seconds * second / run->stream_ns);
  c.grid = (struct grid){.length = run->stream_ns, .limit = end,
                         .next_boundary = start + run->stream_ns, .slot = -warmup_slots};
  c.stream_start = start;
  c.totals_start = start;
  c.second_start = start;
  /* schbench takes its first RPS sample at time 0, over no time at all, and records 0. */
  add_rps_sample(&c, 0);

  uint64_t now = start;
  for (;;) {
    uint64_t deadline = end;
    if (next_second < deadline) deadline = next_second;
    if (c.grid.next_boundary < deadline) deadline = c.grid.next_boundary;
    if (c.warming && warmup_end < deadline) deadline = warmup_end;
    if (zeroing && next_zero < deadline) deadline = next_zero;
    /* Sleep in short steps so a stop takes effect within 20 ms. */
    while (!is_stopping(run)) {
      now = pvb_monotonic_ns();
      if (now >= deadline) break;
      pvb_sleep_until_ns(deadline < now + 20000000u ? deadline : now + 20000000u);
    }
    now = pvb_monotonic_ns();
    drain(&c);
    if (now >= next_second) {
      c.current_rps = (double)c.second_requests * 1e9 / (double)(now - c.second_start);
      add_rps_sample(&c, c.current_rps);
      c.second_requests = 0;
      c.second_start = now;
      while (next_second <= now) next_second += second;
    }
    if (now >= c.grid.next_boundary) emit_stream(&c, now);
    if (c.warming && now >= warmup_end) {
      c.warming = false;
      reset_totals(&c, now);
    }
    if (zeroing && now >= next_zero && !c.warming) {
      reset_totals(&c, now);
      next_zero += zero_period;
    }
    if (now >= end || is_stopping(run)) break;
  }
  uint64_t stopped_at = pvb_monotonic_ns();
  /* The scheduling delays are read while the threads still exist. */
  uint64_t message_delay, worker_delay;
  sched_delays(run, &message_delay, &worker_delay);
  char *sched = thread_sched(run);
  stop_threads(run);
  drain(&c);
  if (c.stream.requests > 0 || c.stream.wakeup.total > 0 || c.stream_start < stopped_at)
    emit_stream(&c, stopped_at);

  /* Only a run that ended by itself says so, and then it cleans up after itself; one
   * that was stopped is over for the controller already (a starved vCPU may run this
   * long after, into the next run) and its stopper joins and frees it. */
  pthread_mutex_lock(&current_lock);
  bool ran_out = current == run;
  if (ran_out) current = NULL;
  pthread_mutex_unlock(&current_lock);
  if (ran_out) emit_done(&c, stopped_at, message_delay, worker_delay, sched);
  free(sched);
  accumulator_free(&c.stream);
  accumulator_free(&c.totals);
  pva_hdr_free(&c.spare_wakeup);
  pva_hdr_free(&c.spare_request);
  free(c.rps_samples);
  if (ran_out) {
    pthread_detach(pthread_self());
    free_run(run);
  }
  return NULL;
}

/* ---- start and stop ---- */

/* The online CPUs under the agent's root (sys/devices/system/cpu/online), or this
 * process's count when that file cannot be read. */
static int online_cpus(void) {
  char path[4096];
  const char *root = pva_root();
  size_t length = strlen(root);
  while (length > 0 && root[length - 1] == '/') length--;
  snprintf(path, sizeof path, "%.*s/sys/devices/system/cpu/online", (int)length, root);
  FILE *file = fopen(path, "r");
  int count = 0;
  if (file != NULL) {
    char list[4096];
    if (fgets(list, sizeof list, file) != NULL) {
      char *cursor = list;
      for (;;) {
        char *after;
        long first = strtol(cursor, &after, 10);
        if (after == cursor) {
          count = 0;
          break;
        }
        long last = first;
        if (*after == '-') {
          cursor = after + 1;
          last = strtol(cursor, &after, 10);
          if (after == cursor || last < first) {
            count = 0;
            break;
          }
        }
        count += (int)(last - first + 1);
        if (*after != ',') break;
        cursor = after + 1;
      }
    }
    fclose(file);
  }
  if (count > 0) return count;
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? (int)online : 1;
}

static int fail(char *error, size_t error_size, const char *text) {
  snprintf(error, error_size, "%s", text);
  return -1;
}

/* Returns 0 or pthread_create's error number. */
static int start_thread(struct run *run, void *(*body)(void *), int index) {
  struct thread_start *start = malloc(sizeof *start);
  if (start == NULL) return ENOMEM;
  *start = (struct thread_start){.run = run, .index = index};
  int code = pthread_create(&run->threads[run->thread_count], NULL, body, start);
  if (code != 0) {
    free(start);
    return code;
  }
  run->thread_count += 1;
  return 0;
}

/* aligned_alloc of whole 64-byte lines, zeroed; NULL when out of memory. */
static void *zeroed_lines(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  void *memory = aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (memory != NULL) memset(memory, 0, rounded == 0 ? 64 : rounded);
  return memory;
}

int pva_schbench_start(const struct pva_schbench_options *options, uint64_t stream_interval_ms,
                       struct pva_schbench_started *started, bool *busy, char *error,
                       size_t error_size) {
  *busy = false;
  int workers = options->workers_per_message_thread;
  if (workers < 0) {
    int threads = options->message_threads > 0 ? options->message_threads : 1;
    workers = (online_cpus() + threads - 1) / threads;
  }
  if (options->message_threads < 1 || workers < 1 || options->runtime_seconds < 1 ||
      options->interval_seconds < 1) {
    return fail(error, error_size,
                "The schbench options need at least one message thread, one worker, and a "
                "runtime and interval of at least one second.");
  }
  if (options->message_cpu_count > CPU_SETSIZE || options->worker_cpu_count > CPU_SETSIZE)
    return fail(error, error_size, "The CPU lists of the schbench options are too long.");

  pthread_mutex_lock(&current_lock);
  if (current != NULL) {
    pthread_mutex_unlock(&current_lock);
    *busy = true;
    return fail(error, error_size, "A schbench workload is already running; stop it first.");
  }
  struct run *run = zeroed_lines(sizeof *run);
  if (run == NULL) {
    pthread_mutex_unlock(&current_lock);
    return fail(error, error_size, "Out of memory for the schbench workload.");
  }
  run->options = *options;
  if (options->message_cpus != NULL) {
    memcpy(run->message_cpus, options->message_cpus,
           options->message_cpu_count * sizeof(int));
    run->options.message_cpus = run->message_cpus;
  }
  if (options->worker_cpus != NULL) {
    memcpy(run->worker_cpus, options->worker_cpus, options->worker_cpu_count * sizeof(int));
    run->options.worker_cpus = run->worker_cpus;
  }
  run->workers_per_message = workers;
  run->stream_ns = stream_interval_ms * 1000000u;
  if (run->stream_ns < 1000000u) run->stream_ns = 1000000u;
  int split = options->split_percent;
  if (split >= 0) {
    int kilobytes = options->cache_footprint_kilobytes;
    run->split_private_side = side_for_kilobytes(kilobytes * split / 100);
    run->split_shared_side = side_for_kilobytes(kilobytes * (100 - split) / 100);
    run->split_private_operations = options->operations * split / 100;
    run->split_shared_operations = options->operations - run->split_private_operations;
    run->matrix_side = run->split_private_side;
  } else {
    run->matrix_side = side_for_kilobytes(options->cache_footprint_kilobytes);
  }
  long configured = sysconf(_SC_NPROCESSORS_CONF);
  run->cpu_lock_count = configured > 0 ? (int)configured : 1;
  run->cpu_locks = zeroed_lines(64 * (size_t)run->cpu_lock_count);
  int message_count = options->message_threads;
  run->worker_count = message_count * workers;
  run->messages = zeroed_lines(sizeof(struct message) * (size_t)message_count);
  run->workers = zeroed_lines(sizeof(struct worker) * (size_t)run->worker_count);
  run->threads = calloc((size_t)(message_count + run->worker_count), sizeof(pthread_t));
  bool ok = run->cpu_locks != NULL && run->messages != NULL && run->workers != NULL &&
            run->threads != NULL;
  if (ok && split >= 0) ok = matrices_init(&run->shared, run->split_shared_side);
  if (ok) {
    for (int m = 0; m < message_count && ok; m++) {
      struct message *message = &run->messages[m];
      message->index = m;
      message->worker_count = workers;
      message->workers = calloc((size_t)workers, sizeof *message->workers);
      ok = message->workers != NULL;
      for (int w = 0; w < workers && ok; w++) {
        struct worker *worker = &run->workers[m * workers + w];
        worker->index = m * workers + w;
        worker->message = message;
        pthread_mutex_init(&worker->lock, NULL);
        ok = pva_hdr_init(&worker->wakeup) && pva_hdr_init(&worker->request);
        message->workers[w] = worker;
      }
    }
  }
  if (!ok) {
    if (run->messages == NULL || run->workers == NULL) {
      run->worker_count = 0;
      run->options.message_threads = 0;
    }
    free_run(run);
    pthread_mutex_unlock(&current_lock);
    return fail(error, error_size, "Out of memory for the schbench workload.");
  }
  int code = 0;
  for (int m = 0; m < message_count && code == 0; m++) code = start_thread(run, message_thread, m);
  for (int w = 0; w < run->worker_count && code == 0; w++) {
    pvb_atomic_fetch_add_u64(&run->workers[w].message->live, 1);
    code = start_thread(run, worker_thread, w);
    if (code != 0) pvb_atomic_fetch_add_u64(&run->workers[w].message->live, UINT64_MAX);
  }
  if (code == 0) code = pthread_create(&run->collector, NULL, collector_thread, run);
  if (code != 0) {
    stop_threads(run);
    free_run(run);
    pthread_mutex_unlock(&current_lock);
    snprintf(error, error_size,
             "Could not start a schbench thread: %s. Lower the thread count or raise the task "
             "limit (ulimit -u).",
             strerror(code));
    return -1;
  }
  current = run;
  pthread_mutex_unlock(&current_lock);
  started->threads = message_count * (workers + 1);
  started->workers_per_message_thread = workers;
  return 0;
}

bool pva_schbench_stop(void) {
  pthread_mutex_lock(&current_lock);
  struct run *run = current;
  current = NULL;
  pthread_mutex_unlock(&current_lock);
  if (run == NULL) return false;
  pvb_atomic_store_u32(&run->stopping, 1);
  pthread_join(run->collector, NULL);
  free_run(run);
  return true;
}
