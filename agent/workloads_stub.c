/* Stand-ins for the workloads (schbench.c, stress.c), linked only while those files
   are absent, so the core builds alone. */
#include "workloads.h"

#include <stdio.h>

int pva_schbench_start(const struct pva_schbench_options *options, uint64_t stream_interval_ms,
                       struct pva_schbench_started *started, bool *busy, char *error, size_t error_size) {
  (void)options, (void)stream_interval_ms, (void)started;
  *busy = false;
  snprintf(error, error_size, "this agent was built without its schbench-equivalent");
  return -1;
}

bool pva_schbench_stop(void) { return false; }

int pva_stress_start(const struct pva_stress_options *options, struct pva_stress_started *started, bool *busy,
                     char *error, size_t error_size) {
  (void)options, (void)started;
  *busy = false;
  snprintf(error, error_size, "this agent was built without its stress cycler");
  return -1;
}

bool pva_stress_stop(void) { return false; }
