/*
 * pvbench portable agent: the core's internal interface.
 *
 * The agent serves docs/agent-protocol.md for hosts without a Swift runtime (ppc64le,
 * s390x). It follows the Swift agent (Sources/HostAgent, Sources/LinuxHost,
 * Sources/AgentProtocol) request for request, message for message.
 */
#ifndef PVBENCH_AGENT_H
#define PVBENCH_AGENT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Clocks, sleeps, futexes, affinity, the multiply and the spawn are the Swift side's own
 * shims (Sources/CPVBenchShims), compiled into the agent: pvb_monotonic_ns and friends. */
#include "pvbench_shims.h"

#define PVA_PROTOCOL "1.2"
#define PVA_PROTOCOL_MAJOR 1
#define PVA_VERSION "0.1.0"

/* ---- json.c: a JSON tree, its parser and its writer (object keys sorted) ---- */

enum jtype { JNULL, JBOOL, JINT, JDBL, JSTR, JARR, JOBJ };

typedef struct jv {
  enum jtype t;
  bool b;
  int64_t i;
  double d;
  char *s;           /* JSTR */
  size_t n, cap;     /* JARR, JOBJ: element count */
  struct jv **items; /* JARR elements, JOBJ values */
  char **keys;       /* JOBJ keys */
} jv;

jv *jv_null(void);
jv *jv_bool(bool b);
jv *jv_int(int64_t i);
jv *jv_dbl(double d);
jv *jv_str(const char *s);
jv *jv_strf(const char *format, ...) __attribute__((format(printf, 1, 2)));
jv *jv_arr(void);
jv *jv_obj(void);
jv *jv_push(jv *array, jv *value);           /* returns array */
jv *jv_set(jv *object, const char *key, jv *value); /* replaces; returns object */
jv *jv_get(const jv *object, const char *key);      /* NULL when missing */
jv *jv_take(jv *object, const char *key);           /* removes and returns the member */
void jv_free(jv *value);
/* Typed reads of a member; false when missing or of another type. */
bool jv_int_of(const jv *value, int64_t *out); /* an integral double counts */
const char *jv_str_of(const jv *value);        /* NULL unless a string */
bool jv_bool_of(const jv *value, bool *out);
jv *jv_parse(const char *text, size_t length); /* NULL when not JSON */
char *jv_dump(const jv *value);                /* malloc'd, one line */

/* ---- util.c: strings, files under the root, cpulists ---- */

typedef struct {
  char *p;
  size_t n, cap;
} sbuf;
void sb_add(sbuf *b, const char *s);
void sb_addn(sbuf *b, const char *s, size_t n);
void sb_addf(sbuf *b, const char *format, ...) __attribute__((format(printf, 2, 3)));
char *sb_take(sbuf *b); /* the text (never NULL), buffer reset */
char *xstrdup(const char *s);
char *xasprintf(const char *format, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *format, va_list args) __attribute__((format(printf, 1, 0)));
void *xrealloc(void *p, size_t size);

extern char g_root[4096]; /* "/" or --root without trailing slashes */
bool is_real_host(void);
char *host_path(const char *absolute);            /* malloc'd path under the root */
char *read_file(const char *absolute);            /* NULL when missing/unreadable */
char *read_file_n(const char *absolute, size_t *length);
char *read_trimmed(const char *absolute);         /* whitespace around removed */
bool path_exists(const char *absolute);
bool is_writable_attribute(const char *absolute); /* any write bit in its mode */
char **list_dir(const char *absolute, size_t *count); /* sorted names; free_strings */
void free_strings(char **strings, size_t count);
char *trim(char *s);                              /* in place */
bool has_token(const char *text, const char *token); /* whitespace-separated */
const char *last_component(const char *path);
char *dir_name(const char *path);                 /* malloc'd */
int mkdir_p(const char *real_path);
int remove_tree(const char *real_path);
double ms_since(uint64_t start_ns); /* milliseconds on pvb_monotonic_ns since start_ns */
bool parse_int(const char *s, int64_t *out); /* whole string, Swift's Int(_:) */
char *local_host_name(void);

/* An ordered list of CPU numbers (order matters: hotplug goes highest first). */
typedef struct {
  int *v;
  size_t n, cap;
} cpus;
void cpus_add(cpus *c, int cpu);
bool cpus_has(const cpus *c, int cpu);
void cpus_free(cpus *c);
void cpus_sort(cpus *c, bool descending);
bool cpus_parse(const char *text, cpus *out); /* false when not a cpulist */
char *cpus_format(const cpus *c);             /* sorted, unique, "0-3,8" */
bool cpus_same_set(const cpus *a, const cpus *b);
cpus cpus_minus(const cpus *a, const cpus *b); /* a's order kept */
bool cpus_read(const char *absolute, cpus *out);

/* ---- facts.c: what the agent knows about its host ---- */

enum cgroup_version { CG_NONE, CG_V1, CG_V2 };

typedef struct {
  char *kernel_release, *cmdline;
  cpus online, present, possible, hotpluggable;
  cpus *cores; /* sibling groups sorted by first CPU */
  size_t core_count;
  int threads_per_core;
  bool has_entitled;
  double entitled_capacity;
  enum cgroup_version cgroup;
  bool cpuset_usable, steal_column;
  int64_t steal_ticks;
  const char *interfaces[8];
  size_t interface_count;
} facts;

#define PATH_CPU "/sys/devices/system/cpu"
#define PATH_PARAVIRT "/sys/devices/system/cpu/paravirt"
#define PATH_PREFERRED "/sys/devices/system/cpu/preferred"
#define PATH_VP_HINT "/sys/kernel/debug/powerpc/vp_manual_hint"
#define PATH_LPARCFG "/proc/powerpc/lparcfg"
#define PATH_CGROUP "/sys/fs/cgroup"
#define PATH_JOURNALS "/run/pvbench"
#define STEAL_GOVERNOR "steal_governor"

void facts_read(facts *f);
void facts_free(facts *f);
bool facts_has(const facts *f, const char *interface);
jv *facts_json(const facts *f);
char *cpu_online_path(int cpu);
/* The CPUs a `cpus` selection names, in the order they are given up; false for
   `non-entitled` without an entitlement (NO_ENTITLEMENT). */
#define NO_ENTITLEMENT INT64_MIN
bool resolve_selection(const char *selection, const facts *f, int64_t entitled, cpus *out);

/* /proc/stat */
typedef struct {
  uint64_t v[8]; /* user nice system idle iowait irq softirq steal */
} cpu_times;
typedef struct {
  cpu_times total;
  int *cpu;
  cpu_times *times;
  size_t n;
  bool steal_column;
  uint64_t monotonic_ns;
} proc_stat;
bool proc_stat_parse(const char *text, proc_stat *out);
bool proc_stat_read(proc_stat *out); /* /proc/stat under the root */
void proc_stat_free(proc_stat *s);

/* cgroup hierarchies (LinuxHost/CpusetHierarchy) */
typedef struct {
  enum cgroup_version version;
  const char *root;
} hierarchy;
bool hierarchy_of(enum cgroup_version v, hierarchy *out);
bool hierarchy_containing(const char *path, hierarchy *out);
const char *effective_cpus_file(const hierarchy *h);
const char *effective_mems_file(const hierarchy *h);
char *hierarchy_folder(const hierarchy *h, const char *relative);
char *hierarchy_relative(const hierarchy *h, const char *folder);

typedef struct {
  int pid;
  char *cgroup;
} task;
task *user_tasks(const hierarchy *h, size_t *count);
void free_tasks(task *t, size_t count);

/* ---- kernel.c: every change to the kernel's state goes through here ---- */

typedef struct {
  int err;
  char *path;
  char *action;
} kerr;
char *kerr_text(const kerr *e); /* "write '0' to P failed: Device or resource busy (errno 16)." */
void kerr_clear(kerr *e);

typedef struct {
  int (*write)(const char *value, const char *path, kerr *e);
  int (*make_dir)(const char *path, kerr *e);
  int (*remove_dir)(const char *path, kerr *e);
  int (*load_module)(const char *name, const char *const *params, size_t count, kerr *e);
  int (*unload_module)(const char *name, kerr *e);
  bool (*module_available)(const char *name, const char *release);
  bool (*module_loaded)(const char *name);
  /* The `sched` file of the workload's thread number `index` (message threads first),
     thread id `tid`, as a path under the root (HostAgent/KernelAccess.threadSchedFile). */
  char *(*thread_sched_file)(int index, uint64_t tid);
} kernel_ops;
extern kernel_ops kernel;            /* the one in use */
extern const kernel_ops real_kernel; /* the kernel's own files under the root */
/* Whether /sys/module/NAME exists under the root: module_loaded for the real kernel and
 * the fake alike. */
bool module_present(const char *name);
extern void (*after_journal_append)(void);
int kernel_fail(kerr *e, int err, const char *path, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
void install_test_doubles(void); /* only in the testing build */

/* ---- journal.c: the restore journal, its replay, the recovery of dead agents' ---- */

typedef struct {
  char kind[16]; /* begin write mkdir move subtree-add module-load */
  char *path, *original, *value, *from, *name, *fallback;
  int64_t pid;
} jentry;
void jentry_free(jentry *e);
extern char *g_journal; /* host path */
bool journal_exists(void);
/* Appends one line (fsynced); on failure sets *error to a reply message. */
bool journal_append(const jentry *e, char **error);
void journal_remove(void);
jentry *journal_entries(const char *host_path, size_t *count);
typedef struct {
  int undone;
  char **problems;
  size_t problem_count;
} replay_outcome;
void replay(const jentry *entries, size_t count, replay_outcome *out);
void replay_outcome_free(replay_outcome *o);
jv *recover_leftovers(void); /* the hello's `recovered` */

/* ---- proto.c: errors and the request loop ---- */

typedef struct {
  const char *code;
  char *message;
} agent_error;
#define ERR_MALFORMED "malformed"
#define ERR_UNKNOWN_OP "unknown-op"
#define ERR_BAD_PARAMS "bad-params"
#define ERR_HANDSHAKE "handshake-required"
#define ERR_MISMATCH "protocol-mismatch"
#define ERR_UNSUPPORTED "unsupported"
#define ERR_KERNEL "kernel-refused"
#define ERR_VERIFY "verify-failed"
#define ERR_BUSY "busy"
#define ERR_FAILED "failed"
/* Sets *err and returns NULL, for handlers: `return fail(err, ERR_X, "...", ...)`. */
jv *fail(agent_error *err, const char *code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
void emit_line(const char *line);
void emit_event(const char *name, jv *fields); /* takes fields */
/* Runs `fn(arg)` once the current request's reply is out (monitors start after it). */
void after_reply(void (*fn)(void *), void *arg);
int serve(int read_fd, int write_fd);          /* returns when done */
char *finish(void); /* stops everything, restores; NULL or what did not read back */

/* ---- modes.c ---- */
jv *mode_apply(const jv *params, agent_error *err);
jv *mode_verify(agent_error *err);
jv *mode_restore(agent_error *err);
void modes_init(void);

/* ---- monitors.c ---- */
jv *sample_start(const jv *params, agent_error *err);
jv *sample_stop(void);
jv *kmsg_watch(const jv *params, agent_error *err);
void monitors_stop_all(void);
jv *workload_start(const jv *params, agent_error *err);
jv *workload_stop(void);
jv *stress_start(const jv *params, agent_error *err);
jv *stress_stop(void);
/* Evacuation (docs/modes.md): from `start` until every CPU is under 5 % busy. */
void evacuation_measure(const cpus *watched, proc_stat *baseline, uint64_t start,
                        int64_t timeout_ms, int64_t window_ms, jv *result);

#endif
