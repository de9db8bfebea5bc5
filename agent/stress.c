/*
 * pvbench portable agent: the stress cycler (docs/workloads.md), the C twin of
 * Sources/Workloads/Stress/StressCycler.swift.
 *
 * CPU burners go through busy and idle phases on an absolute schedule (edge k at
 * start + k × period, so a late edge does not shift the ones after it). The burners are
 * either built-in spinning threads, parked on one futex word while idle, or
 * `stress-ng --cpu N` in its own process group, stopped and continued (or restarted) at
 * the edges. Each actual edge is an `edge` event; each phase ends with a `phase` event
 * saying what it achieved: the host's busy fraction from /proc/stat and the burners'
 * own share from their schedstat. Stopping stops and reaps every burner.
 */
#define _GNU_SOURCE
#include "hdr.h"
#include "workloads.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The first three fields of a schedstat file: run ns, wait ns, timeslices. */
static bool read_schedstat(const char *path, uint64_t *run_ns) {
  FILE *file = fopen(path, "r");
  if (file == NULL) return false;
  unsigned long long run, wait, slices;
  bool ok = fscanf(file, "%llu %llu %llu", &run, &wait, &slices) == 3;
  fclose(file);
  if (ok) *run_ns = run;
  return ok;
}

/* ---- /proc/stat ---- */

struct cpu_times {
  uint64_t field[8]; /* user nice system idle iowait irq softirq steal */
  bool present;
};

struct proc_stat {
  struct cpu_times *cpus; /* indexed by CPU number */
  size_t count;
};

/* The per-CPU lines of /proc/stat (missing trailing columns read as 0; guest time is
 * inside user and nice already). False when the file cannot be read or has no cpu line. */
static bool read_proc_stat(struct proc_stat *stat) {
  stat->cpus = NULL;
  stat->count = 0;
  FILE *file = fopen("/proc/stat", "r");
  if (file == NULL) return false;
  char line[512];
  bool aggregate = false;
  while (fgets(line, sizeof line, file) != NULL) {
    if (strncmp(line, "cpu", 3) != 0) continue;
    if (line[3] == ' ') {
      aggregate = true;
      continue;
    }
    char *cursor;
    long cpu = strtol(line + 3, &cursor, 10);
    if (cursor == line + 3 || cpu < 0 || cpu > 1 << 20) continue;
    if ((size_t)cpu >= stat->count) {
      size_t count = (size_t)cpu + 1 > 2 * stat->count ? (size_t)cpu + 1 : 2 * stat->count;
      struct cpu_times *cpus = realloc(stat->cpus, count * sizeof *cpus);
      if (cpus == NULL) break;
      memset(cpus + stat->count, 0, (count - stat->count) * sizeof *cpus);
      stat->cpus = cpus;
      stat->count = count;
    }
    struct cpu_times *times = &stat->cpus[cpu];
    times->present = true;
    for (int i = 0; i < 8; i++) {
      char *after;
      unsigned long long value = strtoull(cursor, &after, 10);
      if (after == cursor) break;
      times->field[i] = value;
      cursor = after;
    }
  }
  fclose(file);
  return aggregate || stat->count > 0;
}

/* Busy CPU time between two readings in units of `workers` CPUs, clamped to 0…1: the
 * CPUs present in both, each counter's delta clamped at 0 (a CPU that went offline and
 * back may step back), busy = all − idle − iowait. */
static double busy_fraction(const struct proc_stat *before, const struct proc_stat *after,
                            int workers) {
  uint64_t busy = 0, total = 0;
  size_t cpus = 0;
  for (size_t cpu = 0; cpu < after->count && cpu < before->count; cpu++) {
    if (!after->cpus[cpu].present || !before->cpus[cpu].present) continue;
    cpus++;
    for (int i = 0; i < 8; i++) {
      uint64_t a = after->cpus[cpu].field[i], b = before->cpus[cpu].field[i];
      uint64_t delta = a >= b ? a - b : 0;
      total += delta;
      if (i != 3 && i != 4) busy += delta;
    }
  }
  if (cpus == 0 || workers <= 0 || total == 0) return 0;
  double per_cpu_total = (double)total / (double)cpus;
  double fraction = (double)busy / (per_cpu_total * (double)workers);
  return fraction < 0 ? 0 : fraction > 1 ? 1 : fraction;
}

/* ---- the cycler ---- */

enum engine { ENGINE_BUILTIN, ENGINE_STRESS_NG };

struct cycler {
  struct pva_stress_options options;
  enum engine engine;
  bool restart_control;
  int workers;
  char stress_ng[4096];
  _Alignas(64) uint32_t stopping;
  pthread_t control;
  /* built-in: one spinner per worker; phase 0 parked, 1 spin, 2 exit */
  _Alignas(64) uint32_t phase;
  pthread_t *spinners;
  uint32_t *tids;
  int spinner_count;
  /* stress-ng */
  pid_t group;
  uint64_t retired_ns; /* CPU time of burners already terminated (restart) */
  bool finished;
};

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cycler *current;

static bool is_stopping(struct cycler *cycler) { return pvb_atomic_load_u32(&cycler->stopping) != 0; }

/* Sleeps until `deadline` in steps of at most 10 ms; false when stopped. */
static bool sleep_to(struct cycler *cycler, uint64_t deadline) {
  while (!is_stopping(cycler)) {
    uint64_t now = pvb_monotonic_ns();
    if (now >= deadline) return true;
    pvb_sleep_until_ns(deadline < now + 10000000u ? deadline : now + 10000000u);
  }
  return false;
}

/* -- built-in spinners -- */

struct spinner_start {
  struct cycler *cycler;
  int index;
};

static void *spinner_thread(void *argument) {
  struct spinner_start *start = argument;
  struct cycler *cycler = start->cycler;
  int index = start->index;
  free(start);
  pvb_atomic_store_u32(&cycler->tids[index], (uint32_t)pvb_gettid());
  volatile uint64_t sink = 0;
  uint64_t state = 0x2545F4914F6CDD1Du;
  for (;;) {
    uint32_t value = pvb_atomic_load_u32(&cycler->phase);
    if (value == 2) break;
    if (value == 0) {
      pvb_futex_wait(&cycler->phase, 0);
      continue;
    }
    while (pvb_atomic_load_u32(&cycler->phase) == 1) {
      for (int i = 0; i < 64; i++) state = state * 6364136223846793005u + 1442695040888963407u;
    }
  }
  sink = state;
  (void)sink;
  return NULL;
}

static void spinners_set(struct cycler *cycler, uint32_t phase) {
  pvb_atomic_store_u32(&cycler->phase, phase);
  if (phase != 0) pvb_futex_wake(&cycler->phase, 0x7fffffff);
}

static void spinners_finish(struct cycler *cycler) {
  spinners_set(cycler, 2);
  for (int i = 0; i < cycler->spinner_count; i++) pthread_join(cycler->spinners[i], NULL);
  cycler->spinner_count = 0;
}

static int spinners_prepare(struct cycler *cycler) {
  cycler->spinners = calloc((size_t)cycler->workers, sizeof *cycler->spinners);
  cycler->tids = calloc((size_t)cycler->workers, sizeof *cycler->tids);
  if (cycler->spinners == NULL || cycler->tids == NULL) return ENOMEM;
  for (int i = 0; i < cycler->workers; i++) {
    struct spinner_start *start = malloc(sizeof *start);
    if (start == NULL) return ENOMEM;
    *start = (struct spinner_start){.cycler = cycler, .index = i};
    int code = pthread_create(&cycler->spinners[i], NULL, spinner_thread, start);
    if (code != 0) {
      free(start);
      return code;
    }
    cycler->spinner_count++;
  }
  return 0;
}

/* The spinners' CPU time so far, or false when one's schedstat cannot be read. */
static bool spinners_cpu(struct cycler *cycler, uint64_t *total) {
  *total = 0;
  for (int i = 0; i < cycler->workers; i++) {
    uint32_t tid = pvb_atomic_load_u32(&cycler->tids[i]);
    if (tid == 0) return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%u/schedstat", tid);
    uint64_t run;
    if (!read_schedstat(path, &run)) return false;
    *total += run;
  }
  return true;
}

/* -- stress-ng -- */

/* The path of `name` on PATH (or /usr/bin:/bin when PATH is unset), as the Swift agent
 * resolves it, so the program checked is the program run. */
static bool find_on_path(const char *name, char *path, size_t size) {
  const char *search = getenv("PATH");
  if (search == NULL) search = "/usr/bin:/bin";
  while (*search != 0) {
    const char *end = strchr(search, ':');
    size_t length = end == NULL ? strlen(search) : (size_t)(end - search);
    if (length > 0) {
      snprintf(path, size, "%.*s%s%s", (int)length, search,
               search[length - 1] == '/' ? "" : "/", name);
      struct stat info;
      if (stat(path, &info) == 0 && S_ISREG(info.st_mode) && access(path, X_OK) == 0) return true;
    }
    if (end == NULL) break;
    search = end + 1;
  }
  return false;
}

/* Starts stress-ng leading its own process group, killed by the kernel if the agent
 * dies (PR_SET_PDEATHSIG), with /dev/null for stdin and stdout so that it never writes
 * into the agent's protocol channel; returns 0 or the errno of the failed step. */
static int launch(struct cycler *cycler) {
  char workers[16];
  snprintf(workers, sizeof workers, "%d", cycler->workers);
  char *const argv[] = {"stress-ng", "--cpu", workers, "--cpu-method", "int64",
                        "--timeout", "0", "--quiet", NULL};
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) return errno;
  const int32_t fds[] = {devnull, 0, devnull, 1};
  int32_t child = 0;
  int failure = pvb_spawn_with_parent_death(cycler->stress_ng, argv, environ, fds, 2, NULL, 1,
                                            SIGKILL, &child);
  close(devnull);
  if (failure != 0) return failure;
  cycler->group = child;
  return 0;
}

/* The children of the stress-ng parent (its burners), from /proc/PID/task/PID/children. */
static int children(struct cycler *cycler, pid_t *pids, int capacity) {
  if (cycler->group <= 0) return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)cycler->group,
           (int)cycler->group);
  FILE *file = fopen(path, "r");
  if (file == NULL) return 0;
  int count = 0;
  long pid;
  while (fscanf(file, "%ld", &pid) == 1) {
    if (pids != NULL && count < capacity) pids[count] = (pid_t)pid;
    count++;
  }
  fclose(file);
  return count;
}

static uint64_t live_cpu(struct cycler *cycler) {
  int count = children(cycler, NULL, 0);
  if (count == 0) return 0;
  pid_t *pids = calloc((size_t)count, sizeof *pids);
  if (pids == NULL) return 0;
  count = children(cycler, pids, count);
  uint64_t total = 0;
  for (int i = 0; i < count; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pids[i]);
    uint64_t run;
    if (read_schedstat(path, &run)) total += run;
  }
  free(pids);
  return total;
}

/* SIGTERM to the group (continued first so stopped processes can act on it), SIGKILL
 * after 2 s; the parent is reaped, and children a hard-killed parent left are killed. */
static void terminate(struct cycler *cycler) {
  if (cycler->group <= 0) return;
  pid_t group = cycler->group;
  cycler->retired_ns += live_cpu(cycler);
  kill(-group, SIGCONT);
  kill(-group, SIGTERM);
  uint64_t deadline = pvb_monotonic_ns() + 2000000000u;
  int status;
  for (;;) {
    pid_t reaped = waitpid(group, &status, WNOHANG);
    if (reaped == group || (reaped < 0 && errno == ECHILD)) break;
    if (pvb_monotonic_ns() > deadline) {
      kill(-group, SIGKILL);
      waitpid(group, &status, 0);
      break;
    }
    pvb_sleep_ns(1000000);
  }
  kill(-group, SIGKILL);
  cycler->group = 0;
}

static int stress_ng_prepare(struct cycler *cycler) {
  if (cycler->restart_control) return 0;
  int code = launch(cycler);
  if (code != 0) return code;
  /* Wait (at most 3 s) for the burners to exist, so that SIGCONT later resumes them
   * instead of resuming a parent that still has to fork them. */
  uint64_t deadline = pvb_monotonic_ns() + 3000000000u;
  while (pvb_monotonic_ns() < deadline && children(cycler, NULL, 0) < cycler->workers)
    pvb_sleep_ns(5000000);
  kill(-cycler->group, SIGSTOP);
  return 0;
}

/* -- either engine -- */

static void set_busy(struct cycler *cycler, bool busy) {
  if (cycler->engine == ENGINE_BUILTIN) {
    spinners_set(cycler, busy ? 1 : 0);
  } else if (!cycler->restart_control) {
    if (cycler->group > 0) kill(-cycler->group, busy ? SIGCONT : SIGSTOP);
  } else if (busy) {
    launch(cycler);
  } else {
    terminate(cycler);
  }
}

static bool burner_cpu(struct cycler *cycler, uint64_t *total) {
  if (cycler->engine == ENGINE_BUILTIN) return spinners_cpu(cycler, total);
  *total = cycler->retired_ns + live_cpu(cycler);
  return true;
}

static void finish(struct cycler *cycler) {
  if (cycler->finished) return;
  cycler->finished = true;
  if (cycler->engine == ENGINE_BUILTIN) {
    spinners_finish(cycler);
  } else {
    terminate(cycler);
  }
}

static const char *engine_name(const struct cycler *cycler) {
  return cycler->engine == ENGINE_STRESS_NG ? "stress-ng" : "builtin";
}

/* -- the schedule -- */

enum phase { PHASE_BUSY, PHASE_IDLE, PHASE_END };
static const char *const phase_names[] = {"busy", "idle", "end"};

struct previous {
  bool valid;
  enum phase phase;
  long cycle;
  uint64_t at;
  struct proc_stat stat;
  bool stat_valid;
  uint64_t burned;
  bool burned_valid;
};

static void edge(struct cycler *cycler, struct previous *previous, enum phase phase, long cycle,
                 uint64_t scheduled) {
  uint64_t now = pvb_monotonic_ns();
  uint64_t wall = pvb_realtime_ns();
  struct proc_stat stat;
  bool stat_valid = read_proc_stat(&stat);
  uint64_t burned = 0;
  bool burned_valid = burner_cpu(cycler, &burned);
  struct pva_text text = {0};
  pva_text_printf(&text,
                  "{\"edge\":{\"cycle\":%ld,\"monotonicNanoseconds\":%llu,\"phase\":\"%s\","
                  "\"scheduledMonotonicNanoseconds\":%llu,\"wallNanoseconds\":%llu},"
                  "\"event\":\"edge\"}",
                  cycle, (unsigned long long)now, phase_names[phase],
                  (unsigned long long)scheduled, (unsigned long long)wall);
  if (!text.failed) pva_emit(text.data);
  pva_text_free(&text);
  if (previous->valid && previous->stat_valid && stat_valid) {
    pva_text_printf(&text, "{\"event\":\"phase\",\"report\":{");
    if (previous->burned_valid && burned_valid && now > previous->at) {
      double available = (double)(now - previous->at) * (double)cycler->workers;
      pva_text_printf(&text, "\"burnerFraction\":");
      pva_text_double(&text, (double)(burned - previous->burned) / available);
      pva_text_printf(&text, ",");
    }
    pva_text_printf(&text, "\"busyFraction\":");
    pva_text_double(&text, busy_fraction(&previous->stat, &stat, cycler->workers));
    pva_text_printf(&text,
                    ",\"cycle\":%ld,\"endMonotonicNanoseconds\":%llu,\"engine\":\"%s\","
                    "\"phase\":\"%s\",\"startMonotonicNanoseconds\":%llu,\"workers\":%d}}",
                    previous->cycle, (unsigned long long)now, engine_name(cycler),
                    phase_names[previous->phase], (unsigned long long)previous->at,
                    cycler->workers);
    if (!text.failed) pva_emit(text.data);
    pva_text_free(&text);
  }
  free(previous->stat.cpus);
  *previous = (struct previous){.valid = phase != PHASE_END, .phase = phase, .cycle = cycle,
                                .at = now, .stat = stat, .stat_valid = stat_valid,
                                .burned = burned, .burned_valid = burned_valid};
  if (phase == PHASE_END) {
    free(stat.cpus);
    previous->stat.cpus = NULL;
  }
}

static void *control_thread(void *argument) {
  struct cycler *cycler = argument;
  /* The burners fill every CPU; without a real-time policy this thread waits up to a
   * scheduler slice to run at each idle edge. Without the privilege the edges are merely
   * later, which the reports show. */
  struct sched_param fifo = {.sched_priority = 10};
  sched_setscheduler(0, SCHED_FIFO, &fifo);
  uint64_t busy = cycler->options.busy_ns;
  uint64_t idle = cycler->options.idle_ns;
  uint64_t period = busy + idle;
  /* A short lead so the first edge is on schedule rather than late by the set-up time. */
  uint64_t start = pvb_monotonic_ns() + 20000000u;
  uint64_t end = UINT64_MAX;
  if (cycler->options.cycles >= 0) end = start + (uint64_t)cycler->options.cycles * period;
  if (cycler->options.duration_ns >= 0 && start + (uint64_t)cycler->options.duration_ns < end)
    end = start + (uint64_t)cycler->options.duration_ns;
  struct previous previous = {0};
  long cycle = 0;
  bool is_busy = false;
  for (;;) {
    uint64_t busy_at = start + (uint64_t)cycle * period;
    if (busy_at >= end) break;
    if (!sleep_to(cycler, busy_at)) break;
    if (!is_busy) {
      set_busy(cycler, true);
      is_busy = true;
    }
    edge(cycler, &previous, PHASE_BUSY, cycle, busy_at);
    uint64_t idle_at = busy_at + busy < end ? busy_at + busy : end;
    if (!sleep_to(cycler, idle_at)) break;
    if (idle_at >= end) break;
    if (idle > 0) {
      set_busy(cycler, false);
      is_busy = false;
      edge(cycler, &previous, PHASE_IDLE, cycle, idle_at);
    }
    cycle++;
  }
  if (end != UINT64_MAX) sleep_to(cycler, end);
  uint64_t now = pvb_monotonic_ns();
  uint64_t end_at = end < now ? end : now;
  if (is_busy) set_busy(cycler, false);
  edge(cycler, &previous, PHASE_END, cycle, end_at);
  free(previous.stat.cpus);
  finish(cycler);
  return NULL;
}

static void free_cycler(struct cycler *cycler) {
  free(cycler->spinners);
  free(cycler->tids);
  free(cycler);
}

/* Stops `cycler`'s schedule, waits for it, and frees it (every burner reaped). */
static void stop_and_free(struct cycler *cycler) {
  pvb_atomic_store_u32(&cycler->stopping, 1);
  pthread_join(cycler->control, NULL);
  free_cycler(cycler);
}

int pva_stress_start(const struct pva_stress_options *options,
                     struct pva_stress_started *started, bool *busy, char *error,
                     size_t error_size) {
  *busy = false;
  if (options->busy_ns == 0) {
    snprintf(error, error_size, "The busy phase must be longer than 0.");
    return -1;
  }
  if (options->cycles != -1 && options->cycles < 1) {
    snprintf(error, error_size, "The number of cycles must be at least 1, got %lld.",
             (long long)options->cycles);
    return -1;
  }
  if (options->workers != -1 && options->workers < 1) {
    snprintf(error, error_size, "The number of workers must be at least 1, got %d.",
             options->workers);
    return -1;
  }
  enum engine engine;
  char stress_ng[4096];
  bool found = find_on_path("stress-ng", stress_ng, sizeof stress_ng);
  if (strcmp(options->engine, "auto") == 0) {
    engine = found ? ENGINE_STRESS_NG : ENGINE_BUILTIN;
  } else if (strcmp(options->engine, "stress-ng") == 0) {
    if (!found) {
      snprintf(error, error_size,
               "The stress-ng engine was asked for, but 'stress-ng' is not on PATH; install it "
               "(apt-get install stress-ng) or use '--engine builtin'.");
      return -1;
    }
    engine = ENGINE_STRESS_NG;
  } else if (strcmp(options->engine, "builtin") == 0) {
    engine = ENGINE_BUILTIN;
  } else {
    snprintf(error, error_size,
             "The engine must be 'auto', 'stress-ng' or 'builtin', got '%s'.", options->engine);
    return -1;
  }
  bool restart = strcmp(options->stress_ng_control, "restart") == 0;
  if (!restart && strcmp(options->stress_ng_control, "stop-continue") != 0) {
    snprintf(error, error_size,
             "The stress-ng control must be 'stop-continue' or 'restart', got '%s'.",
             options->stress_ng_control);
    return -1;
  }
  struct proc_stat probe;
  if (!read_proc_stat(&probe)) {
    snprintf(error, error_size, "Could not read /proc/stat: %s.", strerror(errno));
    return -1;
  }
  free(probe.cpus);

  pthread_mutex_lock(&current_lock);
  /* As the Swift agent does, a new cycle replaces a running one. */
  if (current != NULL) {
    stop_and_free(current);
    current = NULL;
  }
  struct cycler *cycler = aligned_alloc(64, (sizeof(struct cycler) + 63) / 64 * 64);
  if (cycler == NULL) {
    pthread_mutex_unlock(&current_lock);
    snprintf(error, error_size, "Out of memory for the stress cycler.");
    return -1;
  }
  memset(cycler, 0, sizeof *cycler);
  cycler->options = *options;
  cycler->engine = engine;
  cycler->restart_control = restart;
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  cycler->workers = options->workers != -1 ? options->workers : online > 0 ? (int)online : 1;
  snprintf(cycler->stress_ng, sizeof cycler->stress_ng, "%s", stress_ng);
  int code = engine == ENGINE_BUILTIN ? spinners_prepare(cycler) : stress_ng_prepare(cycler);
  if (code == 0) code = pthread_create(&cycler->control, NULL, control_thread, cycler);
  if (code != 0) {
    finish(cycler);
    free_cycler(cycler);
    pthread_mutex_unlock(&current_lock);
    if (engine == ENGINE_STRESS_NG) {
      snprintf(error, error_size,
               "Could not start 'stress-ng --cpu %d --cpu-method int64 --timeout 0 --quiet': "
               "%s. Install it or choose '--engine builtin'.",
               options->workers != -1 ? options->workers : (int)online, strerror(code));
    } else {
      snprintf(error, error_size,
               "Could not start the thread 'stress-spin': %s. Lower the thread count or raise "
               "the task limit (ulimit -u).",
               strerror(code));
    }
    return -1;
  }
  current = cycler;
  pthread_mutex_unlock(&current_lock);
  started->engine = engine_name(cycler);
  started->workers = cycler->workers;
  return 0;
}

bool pva_stress_stop(void) {
  pthread_mutex_lock(&current_lock);
  struct cycler *cycler = current;
  current = NULL;
  pthread_mutex_unlock(&current_lock);
  if (cycler == NULL) return false;
  stop_and_free(cycler);
  return true;
}
