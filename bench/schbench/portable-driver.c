/*
 * The portable agent's schbench-equivalent (agent/schbench.c, agent/hdr.c) run
 * standalone, for bench/schbench/fidelity.sh: takes schbench's flags, runs the workload
 * as the agent would, reads back its `workload-done` event and prints schbench's final
 * table (stderr, as schbench and `pvbench workload schbench` print it).
 *
 * With the project's shims (Sources/CPVBenchShims), matrix.c aligned as Package.swift does:
 *   gcc -O2 -falign-loops=64 -D_Nonnull= -D_Nullable= -ISources/CPVBenchShims/include \
 *       -c -o matrix.o Sources/CPVBenchShims/matrix.c
 *   gcc -O2 -pthread -D_Nonnull= -D_Nullable= -Iagent -ISources/CPVBenchShims/include \
 *       -o portable-schbench bench/schbench/portable-driver.c agent/schbench.c agent/hdr.c \
 *       Sources/CPVBenchShims/shims.c matrix.o
 *   portable-schbench -m 1 -t 2 -r 7 -i 7 [--events FILE]
 *
 * --events FILE also writes every event line the workload emitted.
 */
#define _GNU_SOURCE
#include "hdr.h"
#include "workloads.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_signal = PTHREAD_COND_INITIALIZER;
static char *done_line;
static FILE *events;

void pva_emit(const char *json_object) {
  pthread_mutex_lock(&lock);
  if (events != NULL) fprintf(events, "%s\n", json_object);
  if (strncmp(json_object, "{\"event\":\"workload-done\"", 24) == 0) {
    done_line = strdup(json_object);
    pthread_cond_signal(&done_signal);
  }
  pthread_mutex_unlock(&lock);
}

const char *pva_root(void) { return "/"; }

/* The standalone driver prints schbench's table, which has no scheduler counters. */
char *pva_thread_sched_json(const uint64_t *tids, int count) {
  (void)tids;
  (void)count;
  return strdup("{}");
}

/* ---- reading the result back ---- */

/* The `[[value,count],…]` after `"key":` in `line`, into `hdr`. */
static void read_histogram(const char *line, const char *key, struct pva_hdr *hdr) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":[", key);
  const char *cursor = strstr(line, pattern);
  if (cursor == NULL) return;
  cursor += strlen(pattern);
  unsigned long long value, count;
  int used;
  while (sscanf(cursor, "[%llu,%llu]%n", &value, &count, &used) == 2) {
    pva_hdr_record(hdr, value, count);
    cursor += used;
    if (*cursor == ',') cursor++;
  }
}

static double read_number(const char *line, const char *key) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char *cursor = strstr(line, pattern);
  return cursor == NULL ? 0 : strtod(cursor + strlen(pattern), NULL);
}

/* ---- schbench's table (Sources/Workloads/Schbench/SchbenchTable.swift) ---- */

enum { BUCKET_BITS = 8, PER_GROUP = 1 << BUCKET_BITS, TABLE_BUCKETS = 19 * PER_GROUP };

struct table {
  uint64_t counts[TABLE_BUCKETS];
  uint64_t total;
  uint32_t min, max;
};

static int table_bucket(uint32_t value) {
  if (value == 0) return 0;
  int msb = 31 - __builtin_clz(value);
  if (msb <= BUCKET_BITS) return (int)value;
  int error_bits = msb - BUCKET_BITS;
  int bucket = ((error_bits + 1) << BUCKET_BITS) + (int)((value >> error_bits) & (PER_GROUP - 1));
  return bucket < TABLE_BUCKETS ? bucket : TABLE_BUCKETS - 1;
}

static uint32_t table_value(int bucket) {
  if (bucket < PER_GROUP << 1) return (uint32_t)bucket;
  int error_bits = (bucket >> BUCKET_BITS) - 1;
  uint32_t base = 1u << (error_bits + BUCKET_BITS);
  double k = bucket % PER_GROUP;
  return base + (uint32_t)((k + 0.5) * (double)(1u << error_bits));
}

static void table_record(struct table *t, uint32_t value, uint64_t count) {
  if (count == 0) return;
  if (value > t->max) t->max = value;
  if (t->min == 0 || value < t->min) t->min = value;
  t->counts[table_bucket(value)] += count;
  t->total += count;
}

/* A nanosecond histogram in whole µs (rounded), as `pvbench workload schbench` prints it. */
static void table_from_hdr(struct table *t, const struct pva_hdr *hdr) {
  memset(t, 0, sizeof *t);
  for (size_t i = 0; i < hdr->length; i++) {
    if (hdr->counts[i] == 0) continue;
    uint64_t micro = (pva_hdr_bucket_value(i) + 500) / 1000;
    t->counts[table_bucket(micro > UINT32_MAX ? UINT32_MAX : (uint32_t)micro)] += hdr->counts[i];
    t->total += hdr->counts[i];
  }
  if (hdr->total > 0) {
    uint64_t max = hdr->max == 0 ? 0 : pva_hdr_bucket_value(pva_hdr_index(hdr->max));
    t->min = (uint32_t)((hdr->min + 500) / 1000);
    t->max = (uint32_t)((max + 500) / 1000);
  }
}

static void print_block(const char *label, const char *unit, int runtime, const struct table *t,
                        const double *shown, int shown_count, double star) {
  static const double computed[] = {20, 50, 90, 99, 99.9};
  fprintf(stderr, "%s percentiles (%s) runtime %d (s) (%llu total samples)\n", label, unit,
          runtime, (unsigned long long)t->total);
  uint64_t sum = 0, previous = 0;
  int next = 0;
  for (int bucket = 0; bucket < TABLE_BUCKETS && next < 5; bucket++) {
    sum += t->counts[bucket];
    while (next < 5 && (double)sum >= computed[next] / 100 * (double)t->total) {
      for (int s = 0; s < shown_count; s++) {
        if (shown[s] != computed[next]) continue;
        char label_text[16];
        snprintf(label_text, sizeof label_text, "%.1fth", computed[next]);
        fprintf(stderr, "\t%s%6s: %-10u (%llu samples)\n", computed[next] == star ? "* " : "  ",
                label_text, table_value(bucket), (unsigned long long)(sum - previous));
      }
      previous = sum;
      next++;
    }
  }
  fprintf(stderr, "\t  min=%u, max=%u\n", t->min, t->max);
}

static int parse_cpus(const char *text, int **cpus, size_t *count) {
  *cpus = malloc(sizeof(int) * 4096);
  *count = 0;
  const char *cursor = text;
  while (*cursor != 0 && *count < 4096) {
    char *after;
    long first = strtol(cursor, &after, 10);
    if (after == cursor) return -1;
    long last = first;
    if (*after == '-') last = strtol(after + 1, &after, 10);
    for (long cpu = first; cpu <= last && *count < 4096; cpu++) (*cpus)[(*count)++] = (int)cpu;
    cursor = *after == ',' ? after + 1 : after;
    if (*after != ',' && *after != 0) return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  struct pva_schbench_options o = {
      .message_threads = 1, .workers_per_message_thread = -1, .runtime_seconds = 30,
      .warmup_seconds = 0, .interval_seconds = 10, .zero_seconds = -1,
      .sleep_microseconds = 100, .operations = 5, .cache_footprint_kilobytes = 256,
      .locking = true, .requests_per_second = -1, .split_percent = -1};
  static const struct option long_options[] = {
      {"message-threads", required_argument, 0, 'm'}, {"threads", required_argument, 0, 't'},
      {"runtime", required_argument, 0, 'r'},        {"warmuptime", required_argument, 0, 'w'},
      {"intervaltime", required_argument, 0, 'i'},   {"zerotime", required_argument, 0, 'z'},
      {"sleep_usec", required_argument, 0, 's'},     {"operations", required_argument, 0, 'n'},
      {"cache_footprint", required_argument, 0, 'F'}, {"no-locking", no_argument, 0, 'L'},
      {"rps", required_argument, 0, 'R'},            {"message-cpus", required_argument, 0, 'M'},
      {"worker-cpus", required_argument, 0, 'W'},    {"split", required_argument, 0, 'S'},
      {"events", required_argument, 0, 'E'},         {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "m:t:r:w:i:z:s:n:F:LR:M:W:", long_options, NULL)) != -1) {
    switch (c) {
    case 'm': o.message_threads = atoi(optarg); break;
    case 't': o.workers_per_message_thread = atoi(optarg); break;
    case 'r': o.runtime_seconds = atoi(optarg); break;
    case 'w': o.warmup_seconds = atoi(optarg); break;
    case 'i': o.interval_seconds = atoi(optarg); break;
    case 'z': o.zero_seconds = atoi(optarg); break;
    case 's': o.sleep_microseconds = atoi(optarg); break;
    case 'n': o.operations = atoi(optarg); break;
    case 'F': o.cache_footprint_kilobytes = atoi(optarg); break;
    case 'L': o.locking = false; break;
    case 'R': o.requests_per_second = atoi(optarg); break;
    case 'M':
      if (parse_cpus(optarg, &o.message_cpus, &o.message_cpu_count) != 0) return 2;
      break;
    case 'W':
      if (parse_cpus(optarg, &o.worker_cpus, &o.worker_cpu_count) != 0) return 2;
      break;
    case 'S': o.split_percent = atoi(optarg); break;
    case 'E':
      events = fopen(optarg, "w");
      if (events == NULL) {
        perror(optarg);
        return 2;
      }
      break;
    default:
      fprintf(stderr, "usage: %s [schbench flags] [--events FILE]\n", argv[0]);
      return 2;
    }
  }
  struct pva_schbench_started started;
  bool busy;
  char error[512];
  if (pva_schbench_start(&o, 1000, &started, &busy, error, sizeof error) != 0) {
    fprintf(stderr, "%s\n", error);
    return 1;
  }
  pthread_mutex_lock(&lock);
  while (done_line == NULL) pthread_cond_wait(&done_signal, &lock);
  pthread_mutex_unlock(&lock);
  if (events != NULL) fclose(events);

  struct pva_hdr wakeup, request;
  pva_hdr_init(&wakeup);
  pva_hdr_init(&request);
  read_histogram(done_line, "wakeup", &wakeup);
  read_histogram(done_line, "request", &request);
  struct table table;
  static const double latency_shown[] = {50, 90, 99, 99.9};
  static const double rps_shown[] = {20, 50, 90};
  table_from_hdr(&table, &wakeup);
  print_block("Wakeup Latencies", "usec", o.runtime_seconds, &table, latency_shown, 4, 99);
  table_from_hdr(&table, &request);
  print_block("Request Latencies", "usec", o.runtime_seconds, &table, latency_shown, 4, 99);
  memset(&table, 0, sizeof table);
  const char *samples = strstr(done_line, "\"rpsSamples\":[");
  if (samples != NULL) {
    char *cursor = (char *)samples + strlen("\"rpsSamples\":[");
    while (*cursor != ']') {
      char *after;
      double sample = strtod(cursor, &after);
      if (after == cursor) break;
      table_record(&table, sample > 0 ? (uint32_t)sample : 0, 1);
      cursor = *after == ',' ? after + 1 : after;
    }
  }
  print_block("RPS", "requests", o.runtime_seconds, &table, rps_shown, 3, 50);
  fprintf(stderr, "average rps: %.2f\n", read_number(done_line, "averageRPS"));
  fprintf(stderr, "sched delay: message %llu (usec) worker %llu (usec)\n",
          (unsigned long long)read_number(done_line, "messageSchedDelayNanoseconds") / 1000,
          (unsigned long long)read_number(done_line, "workerSchedDelayNanoseconds") / 1000);
  return 0;
}
