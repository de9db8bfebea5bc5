/* The monitors (HostAgent/Monitors: the /proc/stat sampler, the kernel log watch, the
   evacuation meter) and the workload requests' options (HostAgent/WorkloadHost). */
#define _GNU_SOURCE
#include "agent.h"
#include "workloads.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A monitor thread and the flag that stops it. */
typedef struct {
  pthread_t thread;
  bool running;
  volatile bool stop;
  uint64_t interval_ns;
  int fd;
  bool is_kmsg;
} monitor;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static monitor *sampler, *kmsg;

static monitor *take(monitor **slot) {
  pthread_mutex_lock(&lock);
  monitor *m = *slot;
  *slot = NULL;
  pthread_mutex_unlock(&lock);
  return m;
}

static bool stop_monitor(monitor *m) {
  if (!m) return false;
  m->stop = true;
  if (m->running) pthread_join(m->thread, NULL);
  free(m);
  return true;
}

static jv *times_json(const cpu_times *t) {
  jv *a = jv_arr();
  for (int i = 0; i < 8; i++) jv_push(a, jv_int(t->v[i] > INT64_MAX ? INT64_MAX : (int64_t)t->v[i]));
  return a;
}

/* Sends a `preferred` event when the preferred-CPU file's text differs from `*last` (the
   text last sent, kept across calls); nothing when the file is missing or not a cpulist. */
static void preferred_check(char **last) {
  char *text = read_trimmed(PATH_PREFERRED);
  cpus list;
  if (text && (!*last || strcmp(text, *last)) && cpus_parse(text, &list)) {
    free(*last);
    *last = text;
    text = NULL;
    char *formatted = cpus_format(&list);
    jv *event = jv_set(jv_obj(), "cpus", jv_str(formatted));
    jv_set(event, "monotonic_ns", jv_int((int64_t)pvb_monotonic_ns()));
    emit_event("preferred", event);
    free(formatted);
    cpus_free(&list);
  }
  free(text);
}

static void *sample_loop(void *arg) {
  monitor *m = arg;
  uint64_t next = pvb_monotonic_ns();
  char *last_preferred = NULL;
  while (!m->stop) {
    proc_stat s;
    if (proc_stat_read(&s)) {
      jv *cpus_json = jv_obj();
      for (size_t i = 0; i < s.n; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", s.cpu[i]);
        jv_set(cpus_json, key, times_json(&s.times[i]));
      }
      jv *event = jv_set(jv_obj(), "cpus", cpus_json);
      jv_set(event, "monotonic_ns", jv_int(s.monotonic_ns > INT64_MAX ? INT64_MAX : (int64_t)s.monotonic_ns));
      jv_set(event, "total", times_json(&s.total));
      emit_event("samples", event);
      proc_stat_free(&s);
    }
    preferred_check(&last_preferred);
    next += m->interval_ns;
    /* Sleep in slices so stop is prompt; skip missed ticks rather than bursting. */
    while (!m->stop) {
      uint64_t now = pvb_monotonic_ns();
      if (now >= next) break;
      pvb_sleep_ns(next - now < 50000000 ? next - now : 50000000);
    }
    if (pvb_monotonic_ns() > next + m->interval_ns) next = pvb_monotonic_ns();
  }
  free(last_preferred);
  return NULL;
}

/* Starts the sampler unless it was stopped in between (a signal's restore). */
static void start_sampler(void *arg) {
  pthread_mutex_lock(&lock);
  if (sampler == arg) {
    pthread_create(&sampler->thread, NULL, sample_loop, sampler);
    sampler->running = true;
  }
  pthread_mutex_unlock(&lock);
}

jv *sample_start(const jv *params, agent_error *err) {
  int64_t interval = 1000;
  jv_int_of(jv_get(params, "interval_ms"), &interval);
  if (interval < 10 || interval > 3600000)
    return fail(err, ERR_BAD_PARAMS, "\"interval_ms\" must be 10\xe2\x80\xa6" "3600000; got %lld.", (long long)interval);
  stop_monitor(take(&sampler));
  monitor *m = calloc(1, sizeof *m);
  m->interval_ns = (uint64_t)interval * 1000000u;
  pthread_mutex_lock(&lock);
  sampler = m;
  pthread_mutex_unlock(&lock);
  after_reply(start_sampler, m); /* the reply comes before the first samples event */
  jv *fields = jv_arr();
  const char *names[] = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
  for (int i = 0; i < 8; i++) jv_push(fields, jv_str(names[i]));
  jv *o = jv_set(jv_obj(), "interval_ms", jv_int(interval));
  return jv_set(o, "fields", fields);
}

jv *sample_stop(void) { return jv_set(jv_obj(), "stopped", jv_bool(stop_monitor(take(&sampler)))); }

/* The message of a kernel log record reporting a WARN, Oops or BUG; NULL otherwise. */
static const char *warning_in(const char *line) {
  const char *message = line, *semicolon = strchr(line, ';');
  if (semicolon && memchr(line, ',', (size_t)(semicolon - line))) message = semicolon + 1;
  return strstr(message, "WARNING:") || strstr(message, "Oops") || strstr(message, "BUG:") ? message : NULL;
}

static void *kmsg_loop(void *arg) {
  monitor *m = arg;
  sbuf pending = {0};
  char buffer[8192];
  while (!m->stop) {
    ssize_t count = read(m->fd, buffer, sizeof buffer);
    if (count > 0) {
      sb_addn(&pending, buffer, (size_t)count);
      /* /dev/kmsg returns one record per read; a plain file returns lines. */
      if (pending.p[pending.n - 1] != '\n' && m->is_kmsg) sb_add(&pending, "\n");
      char *newline;
      while (pending.n && (newline = memchr(pending.p, '\n', pending.n))) {
        *newline = 0;
        const char *message = warning_in(pending.p);
        if (message) {
          jv *event = jv_set(jv_obj(), "message", jv_str(message));
          jv_set(event, "monotonic_ns", jv_int((int64_t)pvb_monotonic_ns()));
          emit_event("kernel-warning", event);
        }
        size_t used = (size_t)(newline - pending.p) + 1;
        memmove(pending.p, pending.p + used, pending.n - used);
        pending.n -= used;
        pending.p[pending.n] = 0;
      }
    } else if (count < 0 && errno == EPIPE) {
      continue; /* /dev/kmsg: records were overwritten before we read them */
    } else {
      struct pollfd p = {m->fd, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0 || count == 0) pvb_sleep_ns(200000000);
    }
  }
  close(m->fd);
  free(sb_take(&pending));
  return NULL;
}

jv *kmsg_watch(const jv *params, agent_error *err) {
  const char *given = jv_str_of(jv_get(params, "path"));
  const char *path = given ? given : "/dev/kmsg";
  char *file = host_path(path);
  int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    fail(err, ERR_UNSUPPORTED, "Cannot read the kernel log %s: %s; run the agent as root.", file, strerror(errno));
    free(file);
    return NULL;
  }
  free(file);
  lseek(fd, 0, SEEK_END);
  monitor *m = calloc(1, sizeof *m);
  m->fd = fd;
  m->is_kmsg = !strcmp(path, "/dev/kmsg");
  pthread_mutex_lock(&lock);
  monitor *old = kmsg;
  kmsg = m;
  pthread_mutex_unlock(&lock);
  stop_monitor(old);
  pthread_create(&m->thread, NULL, kmsg_loop, m);
  m->running = true;
  return jv_set(jv_obj(), "path", jv_str(path));
}

void monitors_stop_all(void) {
  stop_monitor(take(&sampler));
  stop_monitor(take(&kmsg));
}

/* ---- the workload threads' scheduler counters (AgentProtocol/WorkloadSchedCounters) ---- */

/* nr_migrations_cpu_non_preferred of one `sched` file (LinuxHost/ProcSched's rule: a
   `name : value` line whose name has no space and whose value is a whole number). */
static bool sched_counter(const char *text, const char *wanted, int64_t *out) {
  bool found = false;
  char *copy = xstrdup(text);
  for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = 0;
    char *name = trim(line), *value = trim(colon + 1);
    int64_t number;
    if (*name && !strchr(name, ' ') && !strcmp(name, wanted) && parse_int(value, &number)) {
      *out = number;
      found = true;
    }
  }
  free(copy);
  return found;
}

char *pva_thread_sched_json(const uint64_t *tids, int count) {
  int read = 0;
  bool any = false;
  int64_t sum = 0;
  for (int i = 0; i < count; i++) {
    char *path = kernel.thread_sched_file(i, tids[i]);
    char *text = read_file(path);
    free(path);
    if (!text) continue;
    read++;
    int64_t value;
    if (sched_counter(text, "nr_migrations_cpu_non_preferred", &value)) {
      sum += value;
      any = true;
    }
    free(text);
  }
  jv *o = jv_set(jv_obj(), "threads", jv_int(count));
  jv_set(o, "read", jv_int(read));
  jv_set(o, "nr_migrations_cpu_non_preferred", any ? jv_int(sum) : jv_null());
  char *flag = read_trimmed("/proc/sys/kernel/sched_schedstats");
  int64_t on;
  jv_set(o, "schedstats", flag && parse_int(flag, &on) ? jv_int(on != 0) : jv_null());
  free(flag);
  char *text = jv_dump(o);
  jv_free(o);
  return text;
}

/* ---- evacuation (HostAgent/Monitors/EvacuationMeter) ---- */

static const cpu_times *times_of(const proc_stat *s, int cpu) {
  for (size_t i = 0; i < s->n; i++)
    if (s->cpu[i] == cpu) return &s->times[i];
  return NULL;
}

void evacuation_measure(const cpus *watched, proc_stat *baseline, uint64_t start, int64_t timeout_ms,
                        int64_t window_ms, jv *result) {
  proc_stat previous = {0};
  bool have_previous = false;
  if (baseline) {
    previous = *baseline;
    *baseline = (proc_stat){0}; /* taken over */
    have_previous = true;
  }
  uint64_t deadline = start + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
  uint64_t window = (uint64_t)(window_ms > 0 ? window_ms : 0) * 1000000u;
  jv *last = jv_obj();
  jv *milliseconds = NULL;
  for (;;) {
    pvb_sleep_ns(window > 10000000u ? window : 10000000u);
    proc_stat current;
    bool have_current = proc_stat_read(&current);
    if (have_current && have_previous) {
      bool all_below = true;
      jv_free(last);
      last = jv_obj();
      for (size_t i = 0; i < current.n; i++) {
        const cpu_times *before = times_of(&previous, current.cpu[i]);
        if (!before || !cpus_has(watched, current.cpu[i])) continue;
        uint64_t total = 0, idle = 0;
        for (int k = 0; k < 8; k++) {
          uint64_t d = current.times[i].v[k] >= before->v[k] ? current.times[i].v[k] - before->v[k] : 0;
          total += d;
          if (k == 3 || k == 4) idle += d;
        }
        double busy = total ? 100.0 * (double)(total - idle) / (double)total : 0;
        char key[16];
        snprintf(key, sizeof key, "%d", current.cpu[i]);
        jv_set(last, key, jv_dbl(busy));
        if (busy >= 5) all_below = false;
      }
      if (all_below) {
        milliseconds = jv_dbl(ms_since(start));
        proc_stat_free(&current);
        break;
      }
    }
    if (have_current) {
      if (have_previous) proc_stat_free(&previous);
      previous = current;
      have_previous = true;
    }
    if (pvb_monotonic_ns() >= deadline) break;
  }
  if (have_previous) proc_stat_free(&previous);
  jv_set(result, "evacuation_timeout", jv_bool(milliseconds == NULL));
  jv_set(result, "evacuation_ms", milliseconds ? milliseconds : jv_null());
  jv_set(result, "evacuation_busy_percent", last);
}

/* ---- workload requests: their options, then the workloads' own functions ---- */

/* The options' sentences are the Swift agent's (JSON.decodingProblem in
 * Sources/AgentProtocol), and the members are checked in the order its decoder reads them
 * (the options' declaration order), so both name the same member first. A null member
 * counts as missing. */

/* Reads an integer member; `required` ones must be there, `unsigned_only` ones (UInt64 on
 * the Swift side) must not be negative. */
static bool option_int(const jv *options, const char *key, bool required, bool unsigned_only, int64_t *out,
                       agent_error *err) {
  const jv *v = jv_get(options, key);
  if (!v || v->t == JNULL) {
    if (!required) return true;
    fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: the key '%s' is missing.", key);
    return false;
  }
  if (!jv_int_of(v, out)) {
    fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: '%s' must be an integer.", key);
    return false;
  }
  if (unsigned_only && *out < 0) {
    fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: '%s' must not be negative.", key);
    return false;
  }
  return true;
}

/* Reads a closed-choice member (a string enum on the Swift side): one of `words`. */
static const char *option_choice(const jv *options, const char *key, const char *const *words, size_t count,
                                 const char *sentence, agent_error *err) {
  const jv *v = jv_get(options, key);
  if (!v || v->t == JNULL) {
    fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: the key '%s' is missing.", key);
    return NULL;
  }
  const char *word = jv_str_of(v);
  for (size_t i = 0; word && i < count; i++)
    if (!strcmp(word, words[i])) return word;
  fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: '%s' must be %s.", key, sentence);
  return NULL;
}

static bool option_cpus(const jv *options, const char *key, int **out, size_t *count, agent_error *err) {
  const jv *v = jv_get(options, key);
  *out = NULL;
  *count = 0;
  if (!v || v->t == JNULL) return true;
  bool ok = v->t == JARR;
  for (size_t i = 0; ok && i < v->n; i++) {
    int64_t cpu;
    ok = jv_int_of(v->items[i], &cpu) && cpu >= INT32_MIN && cpu <= INT32_MAX;
    if (ok) {
      *out = xrealloc(*out, (*count + 1) * sizeof **out);
      (*out)[(*count)++] = (int)cpu;
    }
  }
  if (!ok) {
    free(*out);
    *out = NULL;
    fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: '%s' must be an array of integers.", key);
  }
  return ok;
}

static bool clamp_int(int64_t value, int *out) {
  *out = value < INT32_MIN ? INT32_MIN : value > INT32_MAX ? INT32_MAX : (int)value;
  return true;
}

/* The CPU lists of the running schbench-equivalent, kept until the next one starts. */
static int *running_message_cpus, *running_worker_cpus;

jv *workload_start(const jv *params, agent_error *err) {
  const jv *options = jv_get(params, "options");
  if (!options) return fail(err, ERR_BAD_PARAMS, "The request needs \"options\".");
  if (options->t != JOBJ) return fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: it must be an object.");
  struct pva_schbench_options o = {0};
  /* SchbenchOptions' members in their order; kind 'i' integer, 'b' true or false, 'c' CPU
   * numbers, 's' string. */
  const struct {
    const char *key;
    char kind;
    bool required;
    int *field;
  } members[] = {
      {"messageThreads", 'i', true, &o.message_threads},
      {"workersPerMessageThread", 'i', false, &o.workers_per_message_thread},
      {"runtimeSeconds", 'i', true, &o.runtime_seconds},
      {"warmupSeconds", 'i', true, &o.warmup_seconds},
      {"intervalSeconds", 'i', true, &o.interval_seconds},
      {"zeroSeconds", 'i', false, &o.zero_seconds},
      {"sleepMicroseconds", 'i', true, &o.sleep_microseconds},
      {"operations", 'i', true, &o.operations},
      {"cacheFootprintKilobytes", 'i', true, &o.cache_footprint_kilobytes},
      {"locking", 'b', true, NULL},
      {"requestsPerSecond", 'i', false, &o.requests_per_second},
      {"messageCPUs", 'c', false, NULL},
      {"workerCPUs", 'c', false, NULL},
      {"jsonPath", 's', false, NULL},
      {"jobName", 's', false, NULL},
      {"splitPercent", 'i', false, &o.split_percent},
  };
  bool valid = true;
  for (size_t i = 0; valid && i < sizeof members / sizeof *members; i++) {
    const char *key = members[i].key;
    const jv *v = jv_get(options, key);
    if (members[i].kind == 'i') {
      int64_t value = -1;
      valid = option_int(options, key, members[i].required, false, &value, err);
      clamp_int(value, members[i].field);
    } else if (members[i].kind == 'b') {
      if (!v || v->t == JNULL) fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: the key '%s' is missing.", key);
      else if (v->t != JBOOL) fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: '%s' must be true or false.", key);
      else o.locking = v->b;
      valid = v && v->t == JBOOL;
    } else if (members[i].kind == 'c') {
      bool messages = !strcmp(key, "messageCPUs");
      valid = option_cpus(options, key, messages ? &o.message_cpus : &o.worker_cpus,
                          messages ? &o.message_cpu_count : &o.worker_cpu_count, err);
    } else if (v && v->t != JNULL && v->t != JSTR) {
      fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: '%s' must be a string.", key);
      valid = false;
    }
  }
  if (!valid) {
    free(o.message_cpus);
    free(o.worker_cpus);
    return NULL;
  }
  int64_t stream = 1000;
  jv_int_of(jv_get(params, "stream_interval_ms"), &stream);
  jv *result = NULL;
  if (stream < 10 || stream > 3600000) {
    fail(err, ERR_BAD_PARAMS, "\"stream_interval_ms\" must be 10\xe2\x80\xa6" "3600000; got %lld.", (long long)stream);
  } else {
    struct pva_schbench_started started = {0};
    bool busy = false;
    char error[512] = {0};
    if (pva_schbench_start(&o, (uint64_t)stream, &started, &busy, error, sizeof error) != 0) {
      if (busy) fail(err, ERR_BUSY, "A schbench workload is already running; stop it first.");
      else fail(err, ERR_FAILED, "schbench did not start: %s.", error);
    } else {
      free(running_message_cpus);
      free(running_worker_cpus);
      running_message_cpus = o.message_cpus;
      running_worker_cpus = o.worker_cpus;
      o.message_cpus = o.worker_cpus = NULL;
      result = jv_set(jv_obj(), "started", jv_bool(true));
      jv_set(result, "threads", jv_int(started.threads));
      jv_set(result, "workers_per_message_thread", jv_int(started.workers_per_message_thread));
    }
  }
  free(o.message_cpus);
  free(o.worker_cpus);
  return result;
}

jv *workload_stop(void) { return jv_set(jv_obj(), "stopped", jv_bool(pva_schbench_stop())); }

jv *stress_start(const jv *params, agent_error *err) {
  const jv *options = jv_get(params, "options");
  if (!options) return fail(err, ERR_BAD_PARAMS, "The request needs \"options\".");
  if (options->t != JOBJ) return fail(err, ERR_BAD_PARAMS, "\"options\" is not valid: it must be an object.");
  /* StressOptions' members in their order. */
  int64_t busy_ns = -1, idle_ns = -1, cycles = -1, duration = -1, workers = -1;
  if (!option_int(options, "busyNanoseconds", true, true, &busy_ns, err) ||
      !option_int(options, "idleNanoseconds", true, true, &idle_ns, err) ||
      !option_int(options, "cycles", false, false, &cycles, err) ||
      !option_int(options, "durationNanoseconds", false, true, &duration, err) ||
      !option_int(options, "workers", false, false, &workers, err))
    return NULL;
  static const char *const engines[] = {"auto", "stress-ng", "builtin"};
  static const char *const controls[] = {"stop-continue", "restart"};
  const char *engine = option_choice(options, "engine", engines, 3, "auto, stress-ng or builtin", err);
  if (!engine) return NULL;
  const char *control =
      option_choice(options, "stressNGControl", controls, 2, "stop-continue or restart", err);
  if (!control) return NULL;
  struct pva_stress_options o = {(uint64_t)busy_ns, (uint64_t)idle_ns, cycles, duration, 0, engine, control};
  clamp_int(workers, &o.workers);
  pva_stress_stop(); /* a new cycler replaces the running one */
  struct pva_stress_started started = {0};
  bool busy = false;
  char error[512] = {0};
  if (pva_stress_start(&o, &started, &busy, error, sizeof error) != 0) {
    if (busy) return fail(err, ERR_BUSY, "A stress cycler is already running; stop it first.");
    return fail(err, ERR_FAILED, "the stress cycler did not start: %s.", error);
  }
  jv *result = jv_set(jv_obj(), "started", jv_bool(true));
  jv_set(result, "engine", jv_str(started.engine));
  return jv_set(result, "workers", jv_int(started.workers));
}

jv *stress_stop(void) { return jv_set(jv_obj(), "stopped", jv_bool(pva_stress_stop())); }
