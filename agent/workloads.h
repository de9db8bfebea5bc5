/*
 * pvbench portable agent: the workloads' interface.
 *
 * The agent core (agent.c and friends) parses a request's params into these
 * structs and calls the functions below; the workloads (schbench.c, stress.c)
 * run on their own pthreads and report through `pva_emit`, which writes one
 * complete JSON event line to the controller under the agent's output lock.
 * Field meanings and units are those of docs/agent-protocol.md.
 */
#ifndef PVBENCH_AGENT_WORKLOADS_H
#define PVBENCH_AGENT_WORKLOADS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Clocks, sleeps, futexes, atomics, affinity and the request's multiply: the Swift side's
 * shims (Sources/CPVBenchShims), linked into the agent and the bench driver alike. */
#include "pvbench_shims.h"

/// Writes one event line (a complete JSON object, no trailing newline) to the
/// controller. Thread-safe; provided by the agent core.
void pva_emit(const char *_Nonnull json_object);

/// The host root every path is relative to ("/" or --root). Provided by the core.
const char *_Nonnull pva_root(void);

/// The workload threads' scheduler counters, read while the threads still exist: the
/// `sched` member of `workload-done` (docs/agent-protocol.md), as a malloc'd JSON object.
/// `tids` in order, message threads first. Provided by the core (monitors.c).
char *_Nonnull pva_thread_sched_json(const uint64_t *_Nonnull tids, int count);

/// `workload.start`'s options (one field per schbench flag). A field marked
/// "optional" uses -1 (or NULL / 0 count) when absent.
struct pva_schbench_options {
  int message_threads;            /* -m */
  int workers_per_message_thread; /* -t, optional (-1: resolve from online CPUs) */
  int runtime_seconds;            /* -r */
  int warmup_seconds;             /* -w */
  int interval_seconds;           /* -i */
  int zero_seconds;               /* -z, optional */
  int sleep_microseconds;         /* -s */
  int operations;                 /* -n */
  int cache_footprint_kilobytes;  /* -F */
  bool locking;                   /* false for -L */
  int requests_per_second;        /* -R, optional */
  int *_Nullable message_cpus;    /* -M, optional */
  size_t message_cpu_count;
  int *_Nullable worker_cpus;     /* -W, optional */
  size_t worker_cpu_count;
  int split_percent;              /* --split, optional */
};

/// What `workload.start` replies.
struct pva_schbench_started {
  int threads;
  int workers_per_message_thread;
};

/// Starts the schbench-equivalent; `interval` events every
/// `stream_interval_ms`, one `workload-done` at the end of the runtime (none
/// after pva_schbench_stop). Returns 0, or -1 with a sentence in `error`
/// (the core replies `busy` when `*busy` is set, else `bad-params`/`failed`).
int pva_schbench_start(const struct pva_schbench_options *_Nonnull options,
                       uint64_t stream_interval_ms,
                       struct pva_schbench_started *_Nonnull started,
                       bool *_Nonnull busy, char *_Nonnull error, size_t error_size);

/// Stops a running schbench-equivalent; returns false when none ran.
bool pva_schbench_stop(void);

/// `stress.start`'s options. Optional fields use -1 when absent.
struct pva_stress_options {
  uint64_t busy_ns;
  uint64_t idle_ns;
  int64_t cycles;       /* optional */
  int64_t duration_ns;  /* optional */
  int workers;          /* optional: one per online CPU */
  const char *_Nonnull engine;            /* "auto", "stress-ng", "builtin" */
  const char *_Nonnull stress_ng_control; /* "stop-continue", "restart" */
};

/// What `stress.start` replies.
struct pva_stress_started {
  const char *_Nonnull engine; /* "stress-ng" or "builtin" */
  int workers;
};

/// Starts the busy/idle cycler; `edge` and `phase` events as it goes.
int pva_stress_start(const struct pva_stress_options *_Nonnull options,
                     struct pva_stress_started *_Nonnull started,
                     bool *_Nonnull busy, char *_Nonnull error, size_t error_size);

/// Stops the cycler (burners stopped and reaped); false when none ran.
bool pva_stress_stop(void);

#endif
