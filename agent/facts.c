/* What the agent knows about its host (LinuxHost/HostFacts, ProcStat, CpusetHierarchy,
   TaskList), and the `facts` reply. */
#define _GNU_SOURCE
#include "agent.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cpu_online_path(int cpu) { return xasprintf(PATH_CPU "/cpu%d/online", cpu); }

static int by_first_cpu(const void *a, const void *b) {
  const cpus *x = a, *y = b;
  int fx = x->n ? x->v[0] : 0, fy = y->n ? y->v[0] : 0;
  return (fx > fy) - (fx < fy);
}

static bool same_list(const cpus *a, const cpus *b) {
  return a->n == b->n && (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof *a->v) == 0);
}

void facts_read(facts *f) {
  *f = (facts){0};
  if (!cpus_read(PATH_CPU "/online", &f->online)) f->online = (cpus){0};
  if (!cpus_read(PATH_CPU "/present", &f->present))
    for (size_t i = 0; i < f->online.n; i++) cpus_add(&f->present, f->online.v[i]);
  if (!cpus_read(PATH_CPU "/possible", &f->possible))
    for (size_t i = 0; i < f->present.n; i++) cpus_add(&f->possible, f->present.v[i]);

  for (size_t i = 0; i < f->present.n; i++) {
    int cpu = f->present.v[i];
    char *path = xasprintf(PATH_CPU "/cpu%d/topology/thread_siblings_list", cpu);
    cpus siblings;
    if (!cpus_read(path, &siblings) || siblings.n == 0) {
      cpus_free(&siblings);
      cpus_add(&siblings, cpu);
    }
    free(path);
    bool known = false;
    for (size_t c = 0; c < f->core_count && !known; c++) known = same_list(&f->cores[c], &siblings);
    if (known) { cpus_free(&siblings); continue; }
    f->cores = xrealloc(f->cores, (f->core_count + 1) * sizeof *f->cores);
    f->cores[f->core_count++] = siblings;
  }
  if (f->core_count) qsort(f->cores, f->core_count, sizeof *f->cores, by_first_cpu);
  f->threads_per_core = 1;
  for (size_t c = 0; c < f->core_count; c++) {
    if (c == 0 || (int)f->cores[c].n > f->threads_per_core) f->threads_per_core = (int)f->cores[c].n;
  }

  char *lparcfg = read_file(PATH_LPARCFG);
  if (lparcfg) {
    for (char *line = strtok(lparcfg, "\n"); line; line = strtok(NULL, "\n")) {
      if (strncmp(line, "partition_entitled_capacity=", 28) != 0) continue;
      const char *value = strrchr(line, '=') + 1;
      char *end;
      double d = strtod(value, &end);
      f->has_entitled = *value && !*end && value[0] != ' ';
      f->entitled_capacity = d / 100;
    }
    free(lparcfg);
  }

  char *controllers = read_file(PATH_CGROUP "/cgroup.controllers");
  if (controllers) {
    f->cgroup = CG_V2;
    f->cpuset_usable = has_token(controllers, "cpuset");
    free(controllers);
  } else if (path_exists(PATH_CGROUP "/cpuset/cpuset.cpus")) {
    f->cgroup = CG_V1;
    f->cpuset_usable = true;
  }

  proc_stat stat;
  char *text = read_file("/proc/stat");
  if (text && proc_stat_parse(text, &stat)) {
    f->steal_column = stat.steal_column;
    uint64_t sum = 0;
    for (size_t i = 0; i < stat.n; i++) sum += stat.times[i].v[7];
    f->steal_ticks = sum > INT64_MAX ? INT64_MAX : (int64_t)sum;
    proc_stat_free(&stat);
  }
  free(text);

  bool hotplug = false;
  for (size_t i = 0; i < f->online.n; i++) {
    char *path = cpu_online_path(f->online.v[i]);
    if (path_exists(path)) {
      hotplug = true;
      cpus_add(&f->hotpluggable, f->online.v[i]);
    }
    free(path);
  }
  if (hotplug) f->interfaces[f->interface_count++] = "hotplug";
  if (path_exists(PATH_PARAVIRT)) {
    f->interfaces[f->interface_count++] = "paravirt-sysfs";
    if (is_writable_attribute(PATH_PARAVIRT)) f->interfaces[f->interface_count++] = "paravirt-sysfs-writable";
  }
  if (path_exists(PATH_VP_HINT)) f->interfaces[f->interface_count++] = "paravirt-powerpc-debugfs";
  if (path_exists(PATH_PREFERRED)) f->interfaces[f->interface_count++] = "preferred";
  char *release = read_trimmed("/proc/sys/kernel/osrelease");
  f->kernel_release = release ? release : xstrdup("");
  if (kernel.module_available(STEAL_GOVERNOR, f->kernel_release))
    f->interfaces[f->interface_count++] = "steal-governor-module";
  if (f->cpuset_usable) f->interfaces[f->interface_count++] = "cpuset";
  char *cmdline = read_trimmed("/proc/cmdline");
  f->cmdline = cmdline ? cmdline : xstrdup("");
}

void facts_free(facts *f) {
  free(f->kernel_release);
  free(f->cmdline);
  cpus_free(&f->online);
  cpus_free(&f->present);
  cpus_free(&f->possible);
  cpus_free(&f->hotpluggable);
  for (size_t c = 0; c < f->core_count; c++) cpus_free(&f->cores[c]);
  free(f->cores);
}

bool facts_has(const facts *f, const char *interface) {
  for (size_t i = 0; i < f->interface_count; i++)
    if (!strcmp(f->interfaces[i], interface)) return true;
  return false;
}

static jv *list_json(const cpus *c) {
  char *text = cpus_format(c);
  jv *v = jv_str(text);
  free(text);
  return v;
}

jv *facts_json(const facts *f) {
  jv *o = jv_obj();
  jv_set(o, "kernel_release", jv_str(f->kernel_release));
  jv_set(o, "cmdline", jv_str(f->cmdline));
  jv_set(o, "cpus_online", list_json(&f->online));
  jv_set(o, "cpus_present", list_json(&f->present));
  jv_set(o, "cpus_possible", list_json(&f->possible));
  jv *cores = jv_arr();
  for (size_t c = 0; c < f->core_count; c++) jv_push(cores, list_json(&f->cores[c]));
  jv_set(o, "cores", cores);
  jv_set(o, "threads_per_core", jv_int(f->threads_per_core));
  jv_set(o, "entitled_capacity", f->has_entitled ? jv_dbl(f->entitled_capacity) : jv_null());
  jv_set(o, "cgroup_version", jv_str(f->cgroup == CG_V2 ? "v2" : f->cgroup == CG_V1 ? "v1" : "none"));
  jv_set(o, "cpuset_usable", jv_bool(f->cpuset_usable));
  jv_set(o, "steal_column", jv_bool(f->steal_column));
  jv_set(o, "steal_ticks", jv_int(f->steal_ticks));
  jv *interfaces = jv_arr();
  for (size_t i = 0; i < f->interface_count; i++) jv_push(interfaces, jv_str(f->interfaces[i]));
  jv_set(o, "interfaces", interfaces);
  jv_set(o, "cpus_hotpluggable", list_json(&f->hotpluggable));
  return o;
}

bool resolve_selection(const char *selection, const facts *f, int64_t entitled, cpus *out) {
  *out = (cpus){0};
  if (!strcmp(selection, "all")) {
    for (size_t c = 0; c < f->core_count; c++)
      for (size_t i = 0; i < f->cores[c].n; i++) cpus_add(out, f->cores[c].v[i]);
    cpus_sort(out, true);
    return true;
  }
  if (!strcmp(selection, "non-entitled")) {
    if (entitled == NO_ENTITLEMENT) return false;
    size_t keep = entitled < 0 ? 0 : (size_t)entitled;
    for (size_t c = f->core_count; c > keep; c--) {
      cpus core = {0};
      for (size_t i = 0; i < f->cores[c - 1].n; i++) cpus_add(&core, f->cores[c - 1].v[i]);
      cpus_sort(&core, true);
      for (size_t i = 0; i < core.n; i++) cpus_add(out, core.v[i]);
      cpus_free(&core);
    }
    return true;
  }
  if (!cpus_parse(selection, out)) return false;
  cpus_sort(out, true);
  return true;
}

/* ---- /proc/stat (LinuxHost/ProcStat) ---- */

bool proc_stat_parse(const char *text, proc_stat *out) {
  *out = (proc_stat){0};
  bool have_total = false;
  const char *line = text;
  while (*line) {
    const char *end = strchr(line, '\n');
    if (!end) end = line + strlen(line);
    if (end - line >= 3 && !strncmp(line, "cpu", 3)) {
      const char *p = line + 3;
      bool is_cpu = true, numbered = false;
      long cpu = 0;
      while (p < end && *p != ' ') {
        if (*p < '0' || *p > '9' || p - line > 12) is_cpu = false;
        else cpu = cpu * 10 + (*p - '0');
        numbered = true;
        p++;
      }
      if (is_cpu) {
        cpu_times t = {{0}};
        int counted = 0;
        while (counted < 8) {
          while (p < end && *p == ' ') p++;
          if (p >= end) break;
          uint64_t value = 0;
          bool valid = true;
          while (p < end && *p != ' ') {
            unsigned digit = (unsigned)(*p - '0');
            if (digit >= 10 || value > (UINT64_MAX - digit) / 10) valid = false;
            if (valid) value = value * 10 + digit;
            p++;
          }
          if (!valid) goto bad;
          t.v[counted++] = value;
        }
        if (counted < 4) goto bad;
        if (numbered) {
          out->cpu = xrealloc(out->cpu, (out->n + 1) * sizeof *out->cpu);
          out->times = xrealloc(out->times, (out->n + 1) * sizeof *out->times);
          size_t i = 0;
          while (i < out->n && out->cpu[i] != (int)cpu) i++;
          out->cpu[i] = (int)cpu;
          out->times[i] = t;
          if (i == out->n) out->n++;
        } else {
          out->total = t;
          out->steal_column = counted >= 8;
          have_total = true;
        }
      }
    }
    line = *end ? end + 1 : end;
  }
  if (have_total) return true;
bad:
  proc_stat_free(out);
  return false;
}

bool proc_stat_read(proc_stat *out) {
  uint64_t time = pvb_monotonic_ns();
  char *text = read_file("/proc/stat");
  bool ok = text && proc_stat_parse(text, out);
  free(text);
  if (ok) out->monotonic_ns = time;
  return ok;
}

void proc_stat_free(proc_stat *s) {
  free(s->cpu);
  free(s->times);
  s->cpu = NULL;
  s->times = NULL;
  s->n = 0;
}

/* ---- cgroup hierarchies ---- */

bool hierarchy_of(enum cgroup_version v, hierarchy *out) {
  if (v == CG_NONE) return false;
  out->version = v;
  out->root = v == CG_V1 ? PATH_CGROUP "/cpuset" : PATH_CGROUP;
  return true;
}

static bool under(const char *path, const char *root) {
  size_t n = strlen(root);
  return !strncmp(path, root, n) && (path[n] == 0 || path[n] == '/');
}

bool hierarchy_containing(const char *path, hierarchy *out) {
  if (under(path, PATH_CGROUP "/cpuset")) return hierarchy_of(CG_V1, out);
  if (under(path, PATH_CGROUP)) return hierarchy_of(CG_V2, out);
  return false;
}

const char *effective_cpus_file(const hierarchy *h) {
  return h->version == CG_V1 ? "cpuset.effective_cpus" : "cpuset.cpus.effective";
}

const char *effective_mems_file(const hierarchy *h) {
  return h->version == CG_V1 ? "cpuset.effective_mems" : "cpuset.mems.effective";
}

char *hierarchy_folder(const hierarchy *h, const char *relative) {
  return !strcmp(relative, "/") ? xstrdup(h->root) : xasprintf("%s%s", h->root, relative);
}

char *hierarchy_relative(const hierarchy *h, const char *folder) {
  const char *tail = folder + strlen(h->root);
  return xstrdup(*tail ? tail : "/");
}

/* ---- user tasks (LinuxHost/TaskList) ---- */

static int by_pid(const void *a, const void *b) {
  const task *x = a, *y = b;
  return (x->pid > y->pid) - (x->pid < y->pid);
}

static bool kernel_thread(const char *stat) {
  const char *close = strrchr(stat, ')');
  if (!close) return false;
  char *copy = xstrdup(close + 1);
  int field = 0;
  bool kthread = false;
  for (char *token = strtok(copy, " "); token; token = strtok(NULL, " ")) {
    if (field++ == 6) {
      int64_t flags;
      kthread = parse_int(token, &flags) && flags >= 0 && ((uint64_t)flags & 0x00200000u);
      break;
    }
  }
  free(copy);
  return kthread;
}

task *user_tasks(const hierarchy *h, size_t *count) {
  size_t names_n;
  char **names = list_dir("/proc", &names_n);
  task *tasks = NULL;
  *count = 0;
  for (size_t i = 0; i < names_n; i++) {
    int64_t pid;
    if (!parse_int(names[i], &pid)) continue;
    char *path = xasprintf("/proc/%lld/cmdline", (long long)pid);
    size_t length = 0;
    char *cmdline = read_file_n(path, &length);
    free(path);
    bool user = cmdline && length > 0; /* a kernel thread's cmdline is empty */
    free(cmdline);
    if (!user) continue;
    path = xasprintf("/proc/%lld/stat", (long long)pid);
    char *stat = read_file(path);
    free(path);
    bool kthread = stat && kernel_thread(stat);
    free(stat);
    if (kthread) continue;
    path = xasprintf("/proc/%lld/cgroup", (long long)pid);
    char *cgroup = read_file(path);
    free(path);
    if (!cgroup) continue;
    for (char *line = strtok(cgroup, "\n"); line; line = strtok(NULL, "\n")) {
      char *first = strchr(line, ':');
      if (!first) continue;
      char *second = strchr(first + 1, ':');
      if (!second) continue;
      *first = *second = 0;
      bool matches;
      if (h->version == CG_V1) {
        matches = false;
        char *controllers = xstrdup(first + 1), *save = NULL;
        for (char *c = strtok_r(controllers, ",", &save); c; c = strtok_r(NULL, ",", &save))
          if (!strcmp(c, "cpuset")) matches = true;
        free(controllers);
      } else {
        matches = !strcmp(line, "0") && !first[1];
      }
      if (matches) {
        tasks = xrealloc(tasks, (*count + 1) * sizeof *tasks);
        tasks[(*count)++] = (task){(int)pid, xstrdup(second + 1)};
        break;
      }
    }
    free(cgroup);
  }
  free_strings(names, names_n);
  if (*count) qsort(tasks, *count, sizeof *tasks, by_pid);
  return tasks;
}

void free_tasks(task *t, size_t count) {
  for (size_t i = 0; i < count; i++) free(t[i].cgroup);
  free(t);
}
