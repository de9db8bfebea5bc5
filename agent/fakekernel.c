/* Test doubles, compiled only into pvbench-agent-testing (-DPVA_TEST_DOUBLES):
   the fake kernel for roots other than `/` (Tests/AgentTestDoubles/FakeKernelSysfsWriter)
   and the crash injector (PVBENCH_CRASH_AT_STEP=N: SIGKILL at the N-th
   journal-or-change step). docs/modes.md, "The fake kernel", lists the rules. */
#ifdef PVA_TEST_DOUBLES
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int store(const char *contents, const char *path, kerr *e) {
  char *real = host_path(path);
  FILE *file = fopen(real, "w");
  free(real);
  if (!file) return kernel_fail(e, EIO, path, "write");
  fputs(contents, file);
  return fclose(file) == 0 ? 0 : kernel_fail(e, EIO, path, "write");
}

static int store_list(const cpus *c, const char *path, kerr *e) {
  char *text = cpus_format(c);
  char *line = xasprintf("%s\n", text);
  int rc = store(line, path, e);
  free(text);
  free(line);
  return rc;
}

static cpus read_list(const char *path) {
  cpus c;
  cpus_read(path, &c);
  return c;
}

static int possible_count(void) {
  cpus c = read_list(PATH_CPU "/possible");
  int n = (int)c.n;
  cpus_free(&c);
  return n;
}

/* Every cgroup.procs file under a hierarchy (host paths). */
static void procs_files(const char *folder, char ***files, size_t *count) {
  size_t n;
  char **names = list_dir(folder, &n);
  for (size_t i = 0; i < n; i++) {
    char *child = xasprintf("%s/%s", folder, names[i]);
    if (!strcmp(names[i], "cgroup.procs")) {
      *files = xrealloc(*files, (*count + 1) * sizeof **files);
      (*files)[(*count)++] = xstrdup(child);
    } else {
      char *real = host_path(child);
      struct stat info;
      if (lstat(real, &info) == 0 && S_ISDIR(info.st_mode)) procs_files(child, files, count);
      free(real);
    }
    free(child);
  }
  free_strings(names, n);
}

/* A cgroup.procs file's lines without `pid`. */
static char *lines_without(const char *path, const char *pid) {
  char *text = read_file(path);
  sbuf b = {0};
  if (text)
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
      if (strcmp(line, pid)) sb_addf(&b, "%s\n", line);
  free(text);
  return sb_take(&b);
}

/* A cgroup.procs file's pids and `pid`, ascending, one a line. */
static char *lines_with(const char *path, int pid) {
  char *text = read_file(path);
  cpus pids = {0};
  if (text)
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
      int64_t value;
      if (parse_int(line, &value)) cpus_add(&pids, (int)value);
    }
  free(text);
  cpus_add(&pids, pid);
  cpus_sort(&pids, false);
  sbuf b = {0};
  for (size_t i = 0; i < pids.n; i++) sb_addf(&b, "%d\n", pids.v[i]);
  cpus_free(&pids);
  return sb_take(&b);
}

static int move_task(const char *text, const char *directory, const char *path, const char *action,
                     kerr *e) {
  int64_t pid;
  if (!parse_int(text, &pid)) return kernel_fail(e, EINVAL, path, "%s", action);
  char *proc = xasprintf("/proc/%lld", (long long)pid);
  bool alive = path_exists(proc);
  free(proc);
  if (!alive) return kernel_fail(e, ESRCH, path, "%s", action);
  char *procs = xasprintf("%s/cgroup.procs", directory);
  hierarchy h;
  bool ok = path_exists(procs) && hierarchy_containing(directory, &h);
  if (!ok) {
    free(procs);
    return kernel_fail(e, ENOENT, path, "%s", action);
  }
  int rc = 0;
  if (h.version == CG_V1) {
    char *cpus_file = xasprintf("%s/cpuset.cpus", directory), *mems_file = xasprintf("%s/cpuset.mems", directory);
    char *c = read_trimmed(cpus_file), *m = read_trimmed(mems_file);
    if (!c || !*c || !m || !*m) rc = kernel_fail(e, ENOSPC, path, "%s", action);
    free(cpus_file); free(mems_file); free(c); free(m);
  }
  char **files = NULL;
  size_t count = 0;
  if (rc == 0) procs_files(h.root, &files, &count);
  for (size_t i = 0; i < count && rc == 0; i++) {
    char *rest = lines_without(files[i], text);
    rc = store(rest, files[i], e);
    if (rc == 0 && h.version == CG_V1) {
      char *folder = dir_name(files[i]), *tasks = xasprintf("%s/tasks", folder);
      rc = store(rest, tasks, e);
      free(folder); free(tasks);
    }
    free(rest);
  }
  free_strings(files, count);
  if (rc == 0) {
    char *here = lines_with(procs, (int)pid);
    rc = store(here, procs, e);
    if (rc == 0 && h.version == CG_V1) {
      char *tasks = xasprintf("%s/tasks", directory);
      rc = store(here, tasks, e);
      free(tasks);
    }
    free(here);
  }
  if (rc == 0) {
    char *relative = hierarchy_relative(&h, directory);
    char *line = xasprintf("%s%s\n", h.version == CG_V1 ? "5:cpuset:" : "0::", relative);
    char *file = xasprintf("/proc/%lld/cgroup", (long long)pid);
    rc = store(line, file, e);
    free(relative); free(line); free(file);
  }
  free(procs);
  return rc;
}

static int write_cpuset(const char *text, const char *name, const char *directory, const char *path,
                        const char *action, kerr *e) {
  cpus values;
  hierarchy h;
  if (!cpus_parse(text, &values)) return kernel_fail(e, EINVAL, path, "%s", action);
  if (!hierarchy_containing(directory, &h)) {
    cpus_free(&values);
    return kernel_fail(e, EINVAL, path, "%s", action);
  }
  bool is_cpus = !strcmp(name, "cpuset.cpus");
  const char *effective_name = is_cpus ? effective_cpus_file(&h) : effective_mems_file(&h);
  char *parent = dir_name(directory);
  char *file = xasprintf("%s/%s", parent, effective_name);
  cpus parent_effective;
  if (!cpus_read(file, &parent_effective)) {
    free(file);
    file = xasprintf("%s/%s", parent, name);
    cpus_read(file, &parent_effective);
  }
  free(file);
  free(parent);
  cpus effective = {0};
  int rc = 0;
  if (h.version == CG_V1) {
    for (size_t i = 0; i < values.n; i++)
      if (!cpus_has(&parent_effective, values.v[i])) rc = kernel_fail(e, EINVAL, path, "%s", action);
    for (size_t i = 0; i < values.n; i++) cpus_add(&effective, values.v[i]);
  } else {
    for (size_t i = 0; i < values.n; i++)
      if (cpus_has(&parent_effective, values.v[i])) cpus_add(&effective, values.v[i]);
    if (effective.n == 0)
      for (size_t i = 0; i < parent_effective.n; i++) cpus_add(&effective, parent_effective.v[i]);
  }
  if (rc == 0) {
    char *target = xasprintf("%s/%s", directory, name);
    char *effective_path = xasprintf("%s/%s", directory, effective_name);
    rc = store_list(&values, target, e);
    if (rc == 0) rc = store_list(&effective, effective_path, e);
    free(target);
    free(effective_path);
  }
  cpus_free(&values);
  cpus_free(&effective);
  cpus_free(&parent_effective);
  return rc;
}

static int write_subtree(const char *text, const char *directory, const char *path, const char *action,
                         kerr *e) {
  char *file = xasprintf("%s/cgroup.subtree_control", directory);
  char *controllers_file = xasprintf("%s/cgroup.controllers", directory);
  char *enabled_text = read_file(file), *available = read_file(controllers_file);
  char *enabled[64];
  size_t count = 0;
  char *save = NULL;
  if (enabled_text)
    for (char *t = strtok_r(enabled_text, " \t\n", &save); t && count < 64; t = strtok_r(NULL, " \t\n", &save))
      enabled[count++] = t;
  char *tokens = xstrdup(text);
  int rc = 0;
  for (char *t = strtok_r(tokens, " \t\n", &save); t && rc == 0; t = strtok_r(NULL, " \t\n", &save)) {
    const char *controller = t + 1;
    if (!has_token(available, controller)) rc = kernel_fail(e, ENOENT, path, "%s", action);
    else if (*t == '+') {
      bool present = false;
      for (size_t i = 0; i < count; i++) present |= !strcmp(enabled[i], controller);
      if (!present && count < 64) enabled[count++] = (char *)controller;
    } else if (*t == '-') {
      size_t out = 0;
      for (size_t i = 0; i < count; i++)
        if (strcmp(enabled[i], controller)) enabled[out++] = enabled[i];
      count = out;
    } else {
      rc = kernel_fail(e, EINVAL, path, "%s", action);
    }
  }
  if (rc == 0) {
    sbuf b = {0};
    for (size_t i = 0; i < count; i++) {
      if (i) sb_add(&b, " ");
      sb_add(&b, enabled[i]);
    }
    sb_add(&b, "\n");
    char *line = sb_take(&b);
    rc = store(line, file, e);
    free(line);
  }
  free(tokens);
  free(enabled_text);
  free(available);
  free(file);
  free(controllers_file);
  return rc;
}

static int fake_write(const char *value, const char *path, kerr *e) {
  char *text = trim(xstrdup(value));
  char *action = xasprintf("write '%s'", value);
  const char *name = last_component(path);
  char *parent = dir_name(path);
  int rc = 0;
  if (!strncmp(path, PATH_CPU "/cpu", strlen(PATH_CPU "/cpu")) && !strcmp(name, "online") &&
      strcmp(parent, PATH_CPU) != 0) {
    int64_t cpu;
    if (!parse_int(last_component(parent) + 3, &cpu)) cpu = -1;
    cpus online = read_list(PATH_CPU "/online");
    if (!path_exists(path)) rc = kernel_fail(e, ENOENT, path, "%s", action);
    else if (strcmp(text, "0") && strcmp(text, "1")) rc = kernel_fail(e, EINVAL, path, "%s", action);
    else if (!strcmp(text, "0") && cpus_has(&online, (int)cpu) && online.n == 1)
      rc = kernel_fail(e, EBUSY, path, "%s", action);
    else {
      char *line = xasprintf("%s\n", text);
      rc = store(line, path, e);
      free(line);
      cpus present = read_list(PATH_CPU "/present"), now = {0};
      for (size_t i = 0; i < present.n && rc == 0; i++) {
        char *file = cpu_online_path(present.v[i]);
        char *state = read_trimmed(file);
        if (!state || !strcmp(state, "1")) cpus_add(&now, present.v[i]);
        free(state);
        free(file);
      }
      if (rc == 0) rc = store_list(&now, PATH_CPU "/online", e);
      cpus_free(&present);
      cpus_free(&now);
    }
    cpus_free(&online);
  } else if (path_exists(path) && !is_writable_attribute(path)) {
    rc = kernel_fail(e, EACCES, path, "%s", action);
  } else if (!strcmp(path, PATH_PARAVIRT)) {
    cpus list, online = read_list(PATH_CPU "/online");
    if (!cpus_parse(text, &list)) rc = kernel_fail(e, EINVAL, path, "%s", action);
    else if (list.n && list.v[list.n - 1] >= possible_count()) rc = kernel_fail(e, ERANGE, path, "%s", action);
    else if (cpus_same_set(&list, &online) || list.n > online.n) rc = kernel_fail(e, EINVAL, path, "%s", action);
    else rc = store_list(&list, path, e);
    cpus_free(&list);
    cpus_free(&online);
  } else if (!strcmp(path, PATH_VP_HINT)) {
    int64_t first;
    if (!parse_int(text, &first) || first < 1 || first > possible_count())
      rc = kernel_fail(e, EINVAL, path, "%s", action);
    else {
      char *line = xasprintf("%lld\n", (long long)first);
      rc = store(line, path, e);
      free(line);
    }
  } else if (!strncmp(path, PATH_CGROUP "/", strlen(PATH_CGROUP "/"))) {
    if (!strcmp(name, "cgroup.procs") || !strcmp(name, "tasks")) rc = move_task(text, parent, path, action, e);
    else if (!strcmp(name, "cpuset.cpus") || !strcmp(name, "cpuset.mems"))
      rc = write_cpuset(text, name, parent, path, action, e);
    else if (!strcmp(name, "cgroup.subtree_control")) rc = write_subtree(text, parent, path, action, e);
    else if (!path_exists(path)) rc = kernel_fail(e, ENOENT, path, "%s", action);
    else {
      char *line = xasprintf("%s\n", text);
      rc = store(line, path, e);
      free(line);
    }
  } else if (!path_exists(path)) {
    rc = kernel_fail(e, ENOENT, path, "%s", action);
  } else {
    rc = store(value, path, e);
  }
  free(text);
  free(action);
  free(parent);
  return rc;
}

static int fake_make_dir(const char *path, kerr *e) {
  char *parent = dir_name(path);
  bool parent_exists = path_exists(parent);
  if (!parent_exists) {
    free(parent);
    return kernel_fail(e, ENOENT, path, "mkdir");
  }
  if (path_exists(path)) {
    free(parent);
    return 0;
  }
  char *real = host_path(path);
  int made = mkdir(real, 0755);
  free(real);
  if (made != 0) {
    free(parent);
    return kernel_fail(e, EACCES, path, "mkdir");
  }
  hierarchy h;
  int rc = 0;
  if (hierarchy_containing(path, &h)) {
    const char *files[][2] = {{"cgroup.procs", ""}, {"cpuset.cpus", "\n"}, {"cpuset.mems", "\n"}};
    for (size_t i = 0; i < 3 && rc == 0; i++) {
      char *file = xasprintf("%s/%s", path, files[i][0]);
      rc = store(files[i][1], file, e);
      free(file);
    }
    if (h.version == CG_V1) {
      const char *v1[][2] = {{"tasks", ""}, {"cpuset.effective_cpus", "\n"}, {"cpuset.effective_mems", "\n"}};
      for (size_t i = 0; i < 3 && rc == 0; i++) {
        char *file = xasprintf("%s/%s", path, v1[i][0]);
        rc = store(v1[i][1], file, e);
        free(file);
      }
    } else {
      const char *copies[][2] = {{"cgroup.subtree_control", "cgroup.controllers"},
                                 {"cpuset.cpus.effective", "cpuset.cpus.effective"},
                                 {"cpuset.mems.effective", "cpuset.mems.effective"}};
      for (size_t i = 0; i < 3 && rc == 0; i++) {
        char *from = xasprintf("%s/%s", parent, copies[i][0]);
        char *to = xasprintf("%s/%s", path, copies[i][1]);
        char *text = read_file(from);
        rc = store(text ? text : (i == 0 ? "" : "\n"), to, e);
        free(text);
        free(from);
        free(to);
      }
      if (rc == 0) {
        char *file = xasprintf("%s/cgroup.subtree_control", path);
        rc = store("\n", file, e);
        free(file);
      }
    }
  }
  free(parent);
  return rc;
}

static int fake_remove_dir(const char *path, kerr *e) {
  if (!path_exists(path)) return kernel_fail(e, ENOENT, path, "rmdir");
  char *procs = xasprintf("%s/cgroup.procs", path);
  char *pids = read_trimmed(procs);
  bool busy = pids && *pids;
  free(pids);
  free(procs);
  size_t n;
  char **names = list_dir(path, &n);
  for (size_t i = 0; i < n && !busy; i++) {
    char *child = xasprintf("%s/%s/cgroup.procs", path, names[i]);
    busy = path_exists(child);
    free(child);
  }
  free_strings(names, n);
  if (busy) return kernel_fail(e, EBUSY, path, "rmdir");
  char *real = host_path(path);
  int rc = remove_tree(real);
  free(real);
  return rc == 0 ? 0 : kernel_fail(e, EIO, path, "rmdir");
}

static bool find_module(const char *folder, const char *prefix) {
  size_t n;
  char **names = list_dir(folder, &n);
  bool found = false;
  for (size_t i = 0; i < n && !found; i++) {
    char *child = xasprintf("%s/%s", folder, names[i]);
    found = !strncmp(names[i], prefix, strlen(prefix)) || find_module(child, prefix);
    free(child);
  }
  free_strings(names, n);
  return found;
}

static bool fake_module_available(const char *name, const char *release) {
  char *folder = xasprintf("/lib/modules/%s", release);
  char *prefix = xasprintf("%s.ko", name);
  bool found = path_exists(folder) && find_module(folder, prefix);
  free(folder);
  free(prefix);
  return found;
}

static int fake_load_module(const char *name, const char *const *params, size_t count, kerr *e) {
  char *release = read_trimmed("/proc/sys/kernel/osrelease");
  if (!release) release = xstrdup("");
  char *modules = xasprintf("/lib/modules/%s", release);
  char *module = xasprintf("/sys/module/%s", name);
  char *parameters = xasprintf("/sys/module/%s/parameters", name);
  int rc = 0;
  if (!fake_module_available(name, release)) rc = kernel_fail(e, ENOENT, modules, "modprobe %s", name);
  else if (module_present(name)) rc = kernel_fail(e, EEXIST, module, "modprobe %s", name);
  if (rc == 0 && !strcmp(name, STEAL_GOVERNOR)) {
    int64_t interval = 1000, high = 500, low = 200;
    for (size_t i = 0; i < count; i++) {
      const char *eq = strchr(params[i], '=');
      int64_t value;
      if (!eq || !parse_int(eq + 1, &value)) continue;
      size_t key = (size_t)(eq - params[i]);
      if (!strncmp(params[i], "interval_ms", key) && key == 11) interval = value;
      if (!strncmp(params[i], "high_threshold", key) && key == 14) high = value;
      if (!strncmp(params[i], "low_threshold", key) && key == 13) low = value;
    }
    if (interval < 100 || interval > 100000 || high >= 10000 || low >= 10000 || high <= low || low < 0)
      rc = kernel_fail(e, EINVAL, parameters, "modprobe %s", name);
  }
  if (rc == 0) {
    char *real = host_path(parameters);
    if (mkdir_p(real) != 0) rc = kernel_fail(e, EIO, module, "modprobe %s", name);
    free(real);
  }
  for (size_t i = 0; i < count && rc == 0; i++) {
    const char *eq = strchr(params[i], '=');
    if (!eq) continue;
    char *file = xasprintf("%s/%.*s", parameters, (int)(eq - params[i]), params[i]);
    char *line = xasprintf("%s\n", eq + 1);
    rc = store(line, file, e);
    if (rc == 0 && !strcmp(name, STEAL_GOVERNOR)) {
      /* The loaded driver's parameters are read-only (0444), as the Swift fake has them. */
      char *real = host_path(file);
      chmod(real, 0444);
      free(real);
    }
    free(file);
    free(line);
  }
  if (rc == 0) {
    cpus online = read_list(PATH_CPU "/online");
    rc = store_list(&online, PATH_PREFERRED, e);
    cpus_free(&online);
    char *real = host_path(PATH_PREFERRED);
    chmod(real, 0444);
    free(real);
  }
  free(release);
  free(modules);
  free(module);
  free(parameters);
  return rc;
}

static int fake_unload_module(const char *name, kerr *e) {
  char *module = xasprintf("/sys/module/%s", name);
  int rc = 0;
  if (!module_present(name)) rc = kernel_fail(e, ENOENT, module, "rmmod");
  else {
    char *real = host_path(module);
    remove_tree(real);
    free(real);
    real = host_path(PATH_PREFERRED);
    remove_tree(real);
    free(real);
  }
  free(module);
  return rc;
}

/* ---- the crash injector: counts journal lines and successful changes ---- */

static long crash_target = -1, crash_count;

static void crash_step(void) {
  if (crash_target < 0) return;
  if (__atomic_add_fetch(&crash_count, 1, __ATOMIC_SEQ_CST) == crash_target) kill(getpid(), SIGKILL);
}

static kernel_ops base;

static int counted_write(const char *value, const char *path, kerr *e) {
  int rc = base.write(value, path, e);
  if (rc == 0) crash_step();
  return rc;
}

static int counted_make_dir(const char *path, kerr *e) {
  int rc = base.make_dir(path, e);
  if (rc == 0) crash_step();
  return rc;
}

static int counted_load_module(const char *name, const char *const *params, size_t count, kerr *e) {
  int rc = base.load_module(name, params, count, e);
  if (rc == 0) crash_step();
  return rc;
}

/* A fake tree cannot know the real thread ids: thread number `index` reads the
   `index`-th folder, in numeric order, of proc/self/task under the root; a thread past
   the last folder has no file (Tests/AgentTestDoubles/FakeKernelSysfsWriter). */
static int compare_numbers(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

static char *fake_thread_sched_file(int index, uint64_t tid) {
  size_t count = 0;
  char **names = list_dir("/proc/self/task", &count);
  long long *numbers = calloc(count ? count : 1, sizeof *numbers);
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    int64_t value;
    if (parse_int(names[i], &value)) numbers[n++] = value;
  }
  free_strings(names, count);
  qsort(numbers, n, sizeof *numbers, compare_numbers);
  char *path = index >= 0 && (size_t)index < n
                   ? xasprintf("/proc/self/task/%lld/sched", numbers[index])
                   : xasprintf("/proc/self/task/none-%llu/sched", (unsigned long long)tid);
  free(numbers);
  return path;
}

void install_test_doubles(void) {
  const char *target = getenv("PVBENCH_CRASH_AT_STEP");
  int64_t value;
  if (target && parse_int(target, &value)) crash_target = (long)value;
  if (is_real_host()) base = real_kernel;
  else
    base = (kernel_ops){fake_write,         fake_make_dir,         fake_remove_dir,
                        fake_load_module,   fake_unload_module,    fake_module_available,
                        module_present,     fake_thread_sched_file};
  kernel = base;
  kernel.write = counted_write;
  kernel.make_dir = counted_make_dir;
  kernel.load_module = counted_load_module;
  after_journal_append = crash_step;
}
#else
typedef int pva_no_test_doubles; /* the release agent holds no test double */
#endif
