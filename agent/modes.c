/* CPU modes: apply, verify, restore, each change journaled first (docs/modes.md;
   HostAgent/Modes, AgentProtocol/ModeRequest and ModeSupport). */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind { OUT_OF_BOX, HOTPLUG, PARAVIRT, PREFERRED, CPUSET };
static const char *kind_names[] = {"out-of-box", "hotplug", "paravirt", "preferred", "cpuset"};
enum interface { IF_AUTO, IF_SYSFS, IF_POWERPC };

typedef struct {
  enum kind kind;
  char *cpus; /* the selection text */
  int64_t entitled; /* NO_ENTITLEMENT when absent */
  enum interface interface;
  int64_t interval_ms, high, low;
  char *host;
  bool evacuation, incremental;
  int64_t evacuation_timeout_ms, evacuation_window_ms;
} request;

/* The mode in force; `expected` is what verify reads back. */
static struct {
  bool on;
  request req;
  cpus avoided;
  char *expected; /* NULL for none */
} active;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static bool avoids_cpus(enum kind k) { return k == HOTPLUG || k == PARAVIRT || k == CPUSET; }

static void request_free(request *r) {
  free(r->cpus);
  free(r->host);
}

static void clear_active(void) {
  if (active.on) {
    request_free(&active.req);
    cpus_free(&active.avoided);
    free(active.expected);
  }
  active.on = false;
  active.expected = NULL;
}

static int64_t int_or(const jv *params, const char *key, int64_t fallback) {
  int64_t value;
  return jv_int_of(jv_get(params, key), &value) ? value : fallback;
}

static bool parse_request(const jv *params, request *r, agent_error *err) {
  *r = (request){0};
  const char *mode = jv_str_of(jv_get(params, "mode"));
  int k = -1;
  for (int i = 0; mode && i < 5; i++)
    if (!strcmp(mode, kind_names[i])) k = i;
  if (k < 0) {
    jv *given = jv_get(params, "mode");
    char *text = given ? jv_dump(given) : xstrdup("nothing");
    fail(err, ERR_BAD_PARAMS,
         "'mode.apply' needs \"mode\": one of out-of-box, hotplug, paravirt, preferred, cpuset; got %s.", text);
    free(text);
    return false;
  }
  r->kind = (enum kind)k;
  const char *selection = jv_str_of(jv_get(params, "cpus"));
  if (selection) {
    cpus check;
    if (strcmp(selection, "all") && strcmp(selection, "non-entitled") && !cpus_parse(selection, &check)) {
      fail(err, ERR_BAD_PARAMS, "\"cpus\" must be a cpulist like '0-3,8', 'non-entitled' or 'all'; got '%s'.",
           selection);
      return false;
    }
    if (strcmp(selection, "all") && strcmp(selection, "non-entitled")) cpus_free(&check);
    r->cpus = xstrdup(selection);
  } else if (avoids_cpus(r->kind)) {
    fail(err, ERR_BAD_PARAMS, "Mode %s needs \"cpus\".", mode);
    return false;
  } else {
    r->cpus = xstrdup("");
  }
  r->entitled = int_or(params, "entitled", NO_ENTITLEMENT);
  const char *interface = jv_str_of(jv_get(params, "interface"));
  if (interface) {
    if (!strcmp(interface, "auto")) r->interface = IF_AUTO;
    else if (!strcmp(interface, "sysfs")) r->interface = IF_SYSFS;
    else if (!strcmp(interface, "powerpc-debugfs")) r->interface = IF_POWERPC;
    else {
      free(r->cpus);
      fail(err, ERR_BAD_PARAMS, "\"interface\" must be auto, sysfs or powerpc-debugfs; got '%s'.", interface);
      return false;
    }
  }
  r->interval_ms = int_or(params, "interval_ms", 1000);
  r->high = int_or(params, "high_threshold", 500);
  r->low = int_or(params, "low_threshold", 200);
  const char *host = jv_str_of(jv_get(params, "host"));
  r->host = host && *host ? xstrdup(host) : local_host_name();
  if (!jv_bool_of(jv_get(params, "evacuation"), &r->evacuation)) r->evacuation = false;
  r->evacuation_timeout_ms = int_or(params, "evacuation_timeout_ms", 30000);
  r->evacuation_window_ms = int_or(params, "evacuation_window_ms", 200);
  if (!jv_bool_of(jv_get(params, "incremental"), &r->incremental)) r->incremental = false;
  return true;
}

static char *fmt(const cpus *c) { return cpus_format(c); }

/* Sets *err to `unsupported`: "<host>: mode <m> needs <file>; this kernel has none — <alt>." */
static jv *unsupported(agent_error *err, const request *r, const char *file, const char *alternatives) {
  return fail(err, ERR_UNSUPPORTED, "%s: mode %s needs %s; this kernel has none \xe2\x80\x94 %s.", r->host,
              kind_names[r->kind], file, alternatives);
}

static bool all_online_avoided(const facts *f, const cpus *avoided) {
  for (size_t i = 0; i < f->online.n; i++)
    if (!cpus_has(avoided, f->online.v[i])) return false;
  return true;
}

/* ModeSupport.check: the rules `pvbench doctor` prints too. */
static bool support_check(const request *r, const facts *f, agent_error *err) {
  int64_t entitled = r->entitled != NO_ENTITLEMENT ? r->entitled
                     : f->has_entitled ? (int64_t)__builtin_ceil(f->entitled_capacity)
                                       : NO_ENTITLEMENT;
  cpus avoided = {0};
  if (avoids_cpus(r->kind) && !resolve_selection(r->cpus, f, entitled, &avoided)) {
    fail(err, ERR_BAD_PARAMS,
         "%s: 'non-entitled' needs the host's entitled cores; give 'entitled:' in the experiment file (or "
         "--entitled) \xe2\x80\x94 this host has no /proc/powerpc/lparcfg.",
         r->host);
    return false;
  }
  bool ok = true;
  char *list = fmt(&avoided);
  if (r->kind == HOTPLUG) {
    int stuck = -1;
    for (size_t i = 0; i < avoided.n && stuck < 0; i++)
      if (cpus_has(&f->online, avoided.v[i]) && !cpus_has(&f->hotpluggable, avoided.v[i])) stuck = avoided.v[i];
    if (!facts_has(f, "hotplug")) {
      ok = !!unsupported(err, r, PATH_CPU "/cpuN/online", "use cpuset, or enable CONFIG_HOTPLUG_CPU");
    } else if (all_online_avoided(f, &avoided)) {
      ok = !!fail(err, ERR_BAD_PARAMS, "%s: hotplug of %s would leave no CPU online; keep at least one.", r->host,
                  list);
    } else if (stuck >= 0) {
      char *file = cpu_online_path(stuck), *alt = xasprintf(
          "cpu%d cannot be taken offline here; leave it out of the set or use cpuset", stuck);
      ok = !!unsupported(err, r, file, alt);
      free(file);
      free(alt);
    }
  } else if (r->kind == PARAVIRT) {
    bool sysfs = facts_has(f, "paravirt-sysfs"), powerpc = facts_has(f, "paravirt-powerpc-debugfs");
    bool writable = facts_has(f, "paravirt-sysfs-writable");
    if ((r->interface == IF_AUTO && !sysfs && !powerpc) || (r->interface == IF_SYSFS && !sysfs)) {
      ok = !!unsupported(err, r, PATH_PARAVIRT, "use cpuset, or boot a kernel with the series");
    } else if ((r->interface == IF_AUTO && sysfs && !writable) || (r->interface == IF_SYSFS && !writable)) {
      ok = !!fail(err, ERR_UNSUPPORTED,
                  "%s: mode paravirt needs a writable " PATH_PARAVIRT "; this kernel's is read-only, as the series "
                  "publishes it \xe2\x80\x94 apply its debug patch 'sysfs: Provide write method for paravirt' "
                  "(16/17), or use cpuset.",
                  r->host);
    } else if (r->interface == IF_POWERPC && !powerpc) {
      ok = !!unsupported(err, r, PATH_VP_HINT, "mount debugfs and boot a powerpc kernel with the series, or use cpuset");
    }
  } else if (r->kind == PREFERRED) {
    if (!facts_has(f, "steal-governor-module")) {
      char *alt = xasprintf("use paravirt or cpuset, or build the module for %s", f->kernel_release);
      ok = !!unsupported(err, r, "the " STEAL_GOVERNOR " module (for " PATH_PREFERRED ")", alt);
      free(alt);
    }
  } else if (r->kind == CPUSET) {
    if (!f->cpuset_usable) {
      ok = !!unsupported(err, r, "the cpuset controller in " PATH_CGROUP "/cgroup.controllers (or a v1 cpuset mount)",
                         "enable cpuset, or use hotplug");
    } else if (all_online_avoided(f, &avoided)) {
      ok = !!fail(err, ERR_BAD_PARAMS, "%s: a cpuset without %s would hold no CPU.", r->host, list);
    }
  }
  free(list);
  cpus_free(&avoided);
  return ok;
}

static bool resolve(const request *r, const facts *f, cpus *avoided, agent_error *err) {
  *avoided = (cpus){0};
  if (!avoids_cpus(r->kind)) return true;
  int64_t entitled = r->entitled != NO_ENTITLEMENT ? r->entitled
                     : f->has_entitled ? (int64_t)__builtin_ceil(f->entitled_capacity)
                                       : NO_ENTITLEMENT;
  if (!resolve_selection(r->cpus, f, entitled, avoided)) {
    fail(err, ERR_BAD_PARAMS,
         "%s: 'non-entitled' needs the host's entitled cores; give \"entitled\" (the experiment file's "
         "'entitled:') \xe2\x80\x94 this host has no /proc/powerpc/lparcfg.",
         r->host);
    return false;
  }
  cpus unknown = cpus_minus(avoided, &f->present);
  if (unknown.n) {
    char *a = fmt(&unknown), *b = fmt(&f->present);
    fail(err, ERR_BAD_PARAMS, "%s: CPUs %s are not present (present: %s).", r->host, a, b);
    free(a);
    free(b);
    cpus_free(&unknown);
    cpus_free(avoided);
    return false;
  }
  return true;
}

/* Journals, then makes, one kernel change. */
static bool journaled(jentry *entry, agent_error *err) {
  char *error = NULL;
  if (journal_append(entry, &error)) return true;
  err->code = ERR_FAILED;
  err->message = error;
  return false;
}

static bool refused(int rc, kerr *e, agent_error *err) {
  if (rc == 0) return false;
  char *text = kerr_text(e);
  fail(err, ERR_KERNEL, "The kernel refused: %s", text);
  free(text);
  kerr_clear(e);
  return true;
}

static bool change(const char *value, const char *path, agent_error *err) {
  char *original = read_trimmed(path);
  jentry entry = {.kind = "write", .path = (char *)path, .original = original ? original : "", .value = (char *)value};
  bool ok = journaled(&entry, err);
  free(original);
  if (!ok) return false;
  kerr e = {0};
  return !refused(kernel.write(value, path, &e), &e, err);
}

/* ---- the modes ---- */

static char *apply_hotplug(const request *r, const cpus *avoided, const facts *f, agent_error *err) {
  cpus remaining = cpus_minus(&f->online, avoided);
  char *expected = NULL;
  if (remaining.n == 0) {
    char *list = fmt(avoided);
    fail(err, ERR_BAD_PARAMS, "%s: hotplug of %s would leave no CPU online; keep at least one.", r->host, list);
    free(list);
    goto done;
  }
  for (size_t i = 0; i < avoided->n; i++) {
    char *path = cpu_online_path(avoided->v[i]);
    bool missing = cpus_has(&f->online, avoided->v[i]) && !path_exists(path);
    if (missing) {
      char *alt = xasprintf("cpu%d cannot be taken offline here; leave it out of the set or use cpuset", avoided->v[i]);
      unsupported(err, r, path, alt);
      free(alt);
    }
    free(path);
    if (missing) goto done;
  }
  for (size_t i = 0; i < avoided->n; i++) {
    if (!cpus_has(&f->online, avoided->v[i])) continue;
    char *path = cpu_online_path(avoided->v[i]);
    bool ok = change("0", path, err);
    free(path);
    if (!ok) goto done;
  }
  expected = fmt(&remaining);
done:
  cpus_free(&remaining);
  return expected;
}

static char *apply_paravirt(const request *r, const cpus *avoided, const facts *f, agent_error *err) {
  enum interface interface = r->interface;
  if (interface == IF_AUTO)
    interface = path_exists(PATH_PARAVIRT) ? IF_SYSFS : path_exists(PATH_VP_HINT) ? IF_POWERPC : IF_SYSFS;
  if (interface == IF_SYSFS) {
    if (!path_exists(PATH_PARAVIRT))
      return unsupported(err, r, PATH_PARAVIRT, "use cpuset, or boot a kernel with the series"), NULL;
    char *list = fmt(avoided);
    if (!change(list, PATH_PARAVIRT, err)) {
      free(list);
      return NULL;
    }
    return list;
  }
  if (!path_exists(PATH_VP_HINT))
    return unsupported(err, r, PATH_VP_HINT, "mount debugfs and boot a powerpc kernel with the series, or use cpuset"),
           NULL;
  /* vp_manual_hint marks every CPU from `first` up to the last possible one. */
  bool has_last = f->possible.n > 0;
  int last = 0, first;
  for (size_t i = 0; i < f->possible.n; i++)
    if (i == 0 || f->possible.v[i] > last) last = f->possible.v[i];
  if (avoided->n) {
    first = avoided->v[0];
    for (size_t i = 1; i < avoided->n; i++)
      if (avoided->v[i] < first) first = avoided->v[i];
  } else {
    first = (has_last ? last : 0) + 1;
  }
  int top = has_last && last > first ? last : first;
  cpus tail = {0};
  for (int cpu = first; cpu <= top; cpu++) cpus_add(&tail, cpu);
  if (avoided->n && !cpus_same_set(avoided, &tail)) {
    char *a = fmt(&tail), *b = fmt(avoided);
    fail(err, ERR_BAD_PARAMS,
         "%s: vp_manual_hint marks every CPU from its number up, so the set must run to the last CPU (%s); got %s.",
         r->host, a, b);
    free(a);
    free(b);
    cpus_free(&tail);
    return NULL;
  }
  cpus_free(&tail);
  char *value = xasprintf("%d", first);
  if (!change(value, PATH_VP_HINT, err)) {
    free(value);
    return NULL;
  }
  return value;
}

static bool apply_preferred(const request *r, const facts *f, agent_error *err) {
  if (!facts_has(f, "steal-governor-module")) {
    char *alt = xasprintf("use paravirt or cpuset, or build the module for %s", f->kernel_release);
    unsupported(err, r, "the " STEAL_GOVERNOR " module (for " PATH_PREFERRED ")", alt);
    free(alt);
    return false;
  }
  if (kernel.module_loaded(STEAL_GOVERNOR)) {
    fail(err, ERR_BUSY,
         "%s: " STEAL_GOVERNOR " is already loaded by someone else; unload it (rmmod " STEAL_GOVERNOR ") and retry.",
         r->host);
    return false;
  }
  jentry entry = {.kind = "module-load", .name = STEAL_GOVERNOR};
  if (!journaled(&entry, err)) return false;
  char interval[40], high[40], low[40];
  snprintf(interval, sizeof interval, "interval_ms=%lld", (long long)r->interval_ms);
  snprintf(high, sizeof high, "high_threshold=%lld", (long long)r->high);
  snprintf(low, sizeof low, "low_threshold=%lld", (long long)r->low);
  const char *params[] = {interval, high, low};
  kerr e = {0};
  return !refused(kernel.load_module(STEAL_GOVERNOR, params, 3, &e), &e, err);
}

static char *slice_of(const hierarchy *h) { return xasprintf("%s/pvbench.slice-%d", h->root, (int)getpid()); }

static char *apply_cpuset(const request *r, const cpus *avoided, const facts *f, jv *result, agent_error *err) {
  hierarchy h;
  if (!f->cpuset_usable)
    return unsupported(err, r, "the cpuset controller in " PATH_CGROUP "/cgroup.controllers (or a v1 cpuset mount)",
                       "enable cpuset, or use hotplug"),
           NULL;
  cpus allowed = cpus_minus(&f->online, avoided);
  char *expected = NULL, *slice = NULL;
  if (allowed.n == 0) {
    char *list = fmt(avoided);
    fail(err, ERR_BAD_PARAMS, "%s: a cpuset without %s would hold no CPU.", r->host, list);
    free(list);
    goto done;
  }
  if (!hierarchy_of(f->cgroup, &h)) {
    unsupported(err, r, "a cgroup hierarchy at " PATH_CGROUP, "mount cgroup2 or a v1 cpuset hierarchy, or use hotplug");
    goto done;
  }
  bool v1 = h.version == CG_V1;
  slice = slice_of(&h);
  kerr e = {0};
  if (!v1) {
    char *control = xasprintf("%s/cgroup.subtree_control", h.root);
    char *enabled = read_file(control);
    bool missing = !has_token(enabled, "cpuset");
    free(enabled);
    bool ok = true;
    if (missing) {
      jentry entry = {.kind = "subtree-add", .path = control, .name = "cpuset"};
      ok = journaled(&entry, err) && !refused(kernel.write("+cpuset", control, &e), &e, err);
    }
    free(control);
    if (!ok) goto done;
  }
  char *fallback = xasprintf("%s/cgroup.procs", h.root);
  jentry made = {.kind = "mkdir", .path = slice, .fallback = fallback};
  bool ok = journaled(&made, err) && !refused(kernel.make_dir(slice, &e), &e, err);
  free(fallback);
  if (!ok) goto done;
  if (v1) {
    char *file = xasprintf("%s/%s", h.root, effective_mems_file(&h));
    char *mems = read_trimmed(file);
    free(file);
    if (!mems) {
      file = xasprintf("%s/cpuset.mems", h.root);
      mems = read_trimmed(file);
      free(file);
    }
    char *target = xasprintf("%s/cpuset.mems", slice);
    ok = change(mems ? mems : "0", target, err);
    free(target);
    free(mems);
    if (!ok) goto done;
  }
  char *list = fmt(&allowed), *target = xasprintf("%s/cpuset.cpus", slice);
  ok = change(list, target, err);
  free(target);
  if (!ok) {
    free(list);
    goto done;
  }
  size_t count;
  task *tasks = user_tasks(&h, &count);
  int moved = 0;
  jv *unmovable = jv_arr();
  char *procs = xasprintf("%s/cgroup.procs", slice);
  for (size_t i = 0; i < count && ok; i++) {
    char *from_folder = hierarchy_folder(&h, tasks[i].cgroup);
    char *from = xasprintf("%s/cgroup.procs", from_folder);
    jentry move = {.kind = "move", .pid = tasks[i].pid, .from = from};
    ok = journaled(&move, err);
    free(from_folder);
    free(from);
    if (!ok) break;
    char pid[24];
    snprintf(pid, sizeof pid, "%d", tasks[i].pid);
    if (kernel.write(pid, procs, &e) == 0) moved++;
    else if (e.err != ESRCH) jv_push(unmovable, jv_int(tasks[i].pid));
    kerr_clear(&e);
  }
  free(procs);
  free_tasks(tasks, count);
  if (!ok) {
    jv_free(unmovable);
    free(list);
    goto done;
  }
  jv_set(result, "cgroup", jv_str(slice));
  jv_set(result, "tasks_moved", jv_int(moved));
  jv_set(result, "tasks_unmovable", unmovable);
  expected = list;
done:
  free(slice);
  cpus_free(&allowed);
  return expected;
}

static char *adjust_cpuset(const request *r, const cpus *avoided, const facts *f, agent_error *err) {
  hierarchy h;
  if (!hierarchy_of(f->cgroup, &h))
    return unsupported(err, r, "a cgroup hierarchy at " PATH_CGROUP,
                       "mount cgroup2 or a v1 cpuset hierarchy, or use hotplug"),
           NULL;
  cpus allowed = cpus_minus(&f->online, avoided);
  char *list = fmt(&allowed);
  cpus_free(&allowed);
  if (!*list) {
    char *a = fmt(avoided);
    fail(err, ERR_BAD_PARAMS, "%s: a cpuset without %s would hold no CPU.", r->host, a);
    free(a);
    free(list);
    return NULL;
  }
  char *slice = slice_of(&h), *target = xasprintf("%s/cpuset.cpus", slice);
  bool ok = change(list, target, err);
  free(slice);
  free(target);
  if (!ok) {
    free(list);
    return NULL;
  }
  return list;
}

/* ---- restore ---- */

static jv *restore_locked(agent_error *err) {
  uint64_t start = pvb_monotonic_ns();
  const char *mode = kind_names[active.on ? active.req.kind : OUT_OF_BOX];
  clear_active();
  jv *result = jv_set(jv_obj(), "mode", jv_str(mode));
  if (!journal_exists()) {
    jv_set(result, "undone", jv_int(0));
    return jv_set(result, "restore_ms", jv_dbl(0));
  }
  size_t count;
  jentry *entries = journal_entries(g_journal, &count);
  replay_outcome o;
  replay(entries, count, &o);
  for (size_t i = 0; i < count; i++) jentry_free(&entries[i]);
  free(entries);
  if (o.problem_count) {
    sbuf b = {0};
    for (size_t i = 0; i < o.problem_count; i++) sb_addf(&b, "%s%s", i ? " " : "", o.problems[i]);
    char *problems = sb_take(&b);
    fail(err, ERR_VERIFY, "Restoring %s left problems: %s The journal %s is kept; run 'pvbench restore'.", mode,
         problems, g_journal);
    free(problems);
    replay_outcome_free(&o);
    jv_free(result);
    return NULL;
  }
  journal_remove();
  jv_set(result, "undone", jv_int(o.undone));
  jv_set(result, "restore_ms", jv_dbl(ms_since(start)));
  replay_outcome_free(&o);
  return result;
}

jv *mode_restore(agent_error *err) {
  pthread_mutex_lock(&lock);
  jv *result = restore_locked(err);
  pthread_mutex_unlock(&lock);
  return result;
}

/* ---- apply ---- */

static void set_active(request *r, cpus *avoided, char *expected) {
  clear_active();
  active.on = true;
  active.req = *r;
  active.avoided = *avoided;
  active.expected = expected;
  *r = (request){0};
  *avoided = (cpus){0};
}

static void append_message(agent_error *err, const char *tail) {
  char *message = xasprintf("%s%s", err->message, tail);
  free(err->message);
  err->message = message;
}

/* An incremental step: only the CPUs that differ change; the mode is not restored. */
static jv *adjust_locked(request *r, jv *result, char **evacuate, agent_error *err) {
  facts f;
  facts_read(&f);
  cpus avoided;
  if (!resolve(r, &f, &avoided, err)) {
    facts_free(&f);
    jv_free(result);
    return NULL;
  }
  cpus added = cpus_minus(&avoided, &active.avoided), removed = cpus_minus(&active.avoided, &avoided);
  char *a = fmt(&avoided), *b = fmt(&added), *c = fmt(&removed);
  jv_set(result, "incremental", jv_bool(true));
  jv_set(result, "avoided", jv_str(a));
  jv_set(result, "added", jv_str(b));
  jv_set(result, "removed", jv_str(c));
  *evacuate = xstrdup(b);
  free(a);
  free(b);
  free(c);
  char *expected = NULL;
  bool ok = true;
  if (r->kind == HOTPLUG) {
    cpus remaining = cpus_minus(&f.online, &added);
    for (size_t i = 0; i < removed.n; i++) cpus_add(&remaining, removed.v[i]);
    if (remaining.n == 0) {
      char *list = fmt(&avoided);
      ok = !!fail(err, ERR_BAD_PARAMS, "%s: hotplug of %s would leave no CPU online; keep at least one.", r->host, list);
      free(list);
    }
    cpus_sort(&removed, false);
    for (size_t i = 0; i < removed.n && ok; i++) {
      char *path = cpu_online_path(removed.v[i]);
      ok = change("1", path, err);
      free(path);
    }
    cpus_sort(&added, true);
    for (size_t i = 0; i < added.n && ok; i++) {
      if (!cpus_has(&f.online, added.v[i])) continue;
      char *path = cpu_online_path(added.v[i]);
      if (!path_exists(path)) {
        char *alt = xasprintf("cpu%d cannot be taken offline here; leave it out of the set or use cpuset", added.v[i]);
        ok = !!unsupported(err, r, path, alt);
        free(alt);
      } else {
        ok = change("0", path, err);
      }
      free(path);
    }
    if (ok) expected = fmt(&remaining);
    cpus_free(&remaining);
  } else if (r->kind == PARAVIRT) {
    expected = apply_paravirt(r, &avoided, &f, err);
    ok = expected != NULL;
  } else {
    expected = adjust_cpuset(r, &avoided, &f, err);
    ok = expected != NULL;
  }
  cpus_free(&added);
  cpus_free(&removed);
  facts_free(&f);
  if (!ok) {
    /* The journal still holds everything, so restore stays complete. */
    append_message(err, " The mode stays applied; the step was not completed.");
    cpus_free(&avoided);
    jv_free(result);
    return NULL;
  }
  set_active(r, &avoided, expected);
  return result;
}

static jv *apply_locked(request *r, char **evacuate, agent_error *err) {
  jv *result = jv_set(jv_obj(), "mode", jv_str(kind_names[r->kind]));
  if (r->incremental && active.on && active.req.kind == r->kind && active.req.interface == r->interface &&
      avoids_cpus(r->kind))
    return adjust_locked(r, result, evacuate, err);
  if (active.on || journal_exists()) {
    jv *restored = restore_locked(err);
    if (!restored) {
      jv_free(result);
      return NULL;
    }
    jv_free(restored);
    jv_set(result, "restored_previous", jv_bool(true));
  }
  facts f;
  facts_read(&f);
  cpus avoided = {0};
  if (!support_check(r, &f, err) || !resolve(r, &f, &avoided, err)) {
    facts_free(&f);
    jv_free(result);
    return NULL;
  }
  char *list = fmt(&avoided);
  jv_set(result, "avoided", jv_str(list));
  free(list);
  char *expected = NULL;
  bool ok = true;
  switch (r->kind) {
  case OUT_OF_BOX: break;
  case HOTPLUG: ok = (expected = apply_hotplug(r, &avoided, &f, err)) != NULL; break;
  case PARAVIRT: ok = (expected = apply_paravirt(r, &avoided, &f, err)) != NULL; break;
  case PREFERRED: ok = apply_preferred(r, &f, err); break;
  case CPUSET: ok = (expected = apply_cpuset(r, &avoided, &f, result, err)) != NULL; break;
  }
  facts_free(&f);
  if (ok) {
    set_active(r, &avoided, expected);
    return result;
  }
  /* Undo whatever part was done; say it was restored only when it read back. */
  cpus_free(&avoided);
  jv_free(result);
  agent_error again = {0};
  jv *restored = restore_locked(&again);
  if (restored) {
    if (!strcmp(err->code, ERR_KERNEL)) append_message(err, " The host was restored and read back.");
    jv_free(restored);
  } else {
    char *tail = xasprintf(" Restoring the host failed too: %s", again.message);
    append_message(err, tail);
    free(tail);
    free(again.message);
  }
  return NULL;
}

jv *mode_apply(const jv *params, agent_error *err) {
  request r;
  if (!parse_request(params, &r, err)) return NULL;
  proc_stat before;
  bool have_before = proc_stat_read(&before);
  uint64_t start = pvb_monotonic_ns();
  char *evacuate = NULL;
  pthread_mutex_lock(&lock);
  bool measure = r.evacuation;
  int64_t timeout = r.evacuation_timeout_ms, window = r.evacuation_window_ms;
  jv *result = apply_locked(&r, &evacuate, err);
  pthread_mutex_unlock(&lock);
  request_free(&r);
  if (result) {
    jv_set(result, "apply_ms", jv_dbl(ms_since(start)));
    const char *over = evacuate ? evacuate : jv_str_of(jv_get(result, "avoided"));
    if (measure && over && (!evacuate || *evacuate)) {
      cpus watched;
      if (!cpus_parse(over, &watched)) watched = (cpus){0};
      evacuation_measure(&watched, have_before ? &before : NULL, start, timeout, window, result);
      cpus_free(&watched);
    }
  }
  if (have_before) proc_stat_free(&before);
  free(evacuate);
  return result;
}

/* ---- verify ---- */

jv *mode_verify(agent_error *err) {
  pthread_mutex_lock(&lock);
  uint64_t start = pvb_monotonic_ns();
  facts f;
  facts_read(&f);
  enum kind kind = active.on ? active.req.kind : OUT_OF_BOX;
  jv *result = jv_set(jv_obj(), "mode", jv_str(kind_names[kind]));
  char **problems = NULL;
  size_t count = 0;
#define PROBLEM(...)                                                                 \
  do {                                                                               \
    problems = xrealloc(problems, (count + 1) * sizeof *problems);                   \
    problems[count++] = xasprintf(__VA_ARGS__);                                      \
  } while (0)
  char *host = active.on ? xstrdup(active.req.host) : local_host_name();
  const char *expected = active.expected ? active.expected : "";
  char *online = fmt(&f.online);
  if (kind == OUT_OF_BOX) {
    cpus offline = cpus_minus(&f.present, &f.online);
    if (offline.n) {
      char *list = fmt(&offline);
      PROBLEM("CPUs %s are offline", list);
      free(list);
    }
    cpus_free(&offline);
    char *marked = read_trimmed(PATH_PARAVIRT);
    if (marked && *marked) PROBLEM(PATH_PARAVIRT " marks %s", marked);
    free(marked);
    if (kernel.module_loaded(STEAL_GOVERNOR)) PROBLEM(STEAL_GOVERNOR " is loaded");
    jv_set(result, "online", jv_str(online));
  } else if (kind == HOTPLUG) {
    jv_set(result, "online", jv_str(online));
    if (strcmp(online, expected)) PROBLEM(PATH_CPU "/online reads %s, expected %s", online, expected);
  } else if (kind == PARAVIRT) {
    const char *file =
        path_exists(PATH_PARAVIRT) && active.req.interface != IF_POWERPC ? PATH_PARAVIRT : PATH_VP_HINT;
    char *now = read_trimmed(file);
    if (!now) now = xstrdup("");
    jv_set(result, "read", jv_str(now));
    cpus a, b;
    bool pa = cpus_parse(now, &a), pb = cpus_parse(expected, &b);
    bool same = !strcmp(now, expected) || (pa == pb && (!pa || cpus_same_set(&a, &b)));
    if (pa) cpus_free(&a);
    if (pb) cpus_free(&b);
    if (!same) PROBLEM("%s reads '%s', expected '%s'", file, now, expected);
    free(now);
  } else if (kind == PREFERRED) {
    if (!kernel.module_loaded(STEAL_GOVERNOR)) PROBLEM(STEAL_GOVERNOR " is not loaded");
    char *preferred = read_trimmed(PATH_PREFERRED);
    if (!preferred) PROBLEM(PATH_PREFERRED " is missing");
    else jv_set(result, "preferred", jv_str(preferred));
    free(preferred);
  } else {
    hierarchy h;
    if (!hierarchy_of(f.cgroup, &h)) {
      PROBLEM("no cgroup hierarchy is mounted at " PATH_CGROUP " any more");
    } else {
      char *slice = slice_of(&h), *file = xasprintf("%s/%s", slice, effective_cpus_file(&h));
      char *effective = read_trimmed(file);
      if (!effective) effective = xstrdup("");
      jv_set(result, "effective", jv_str(effective));
      jv_set(result, "cgroup", jv_str(slice));
      cpus a, b;
      bool pa = cpus_parse(effective, &a), pb = cpus_parse(expected, &b);
      bool same = pa == pb && (!pa || cpus_same_set(&a, &b));
      if (pa) cpus_free(&a);
      if (pb) cpus_free(&b);
      if (!same) PROBLEM("%s reads '%s', expected '%s'", file, effective, expected);
      size_t n;
      task *tasks = user_tasks(&h, &n);
      sbuf first = {0};
      int outside = 0;
      for (size_t i = 0; i < n; i++) {
        char *folder = hierarchy_folder(&h, tasks[i].cgroup);
        if (strcmp(folder, slice)) {
          if (outside < 5) sb_addf(&first, "%s%d", outside ? ", " : "", tasks[i].pid);
          outside++;
        }
        free(folder);
      }
      free_tasks(tasks, n);
      jv_set(result, "tasks_outside", jv_int(outside));
      char *pids = sb_take(&first);
      if (outside) PROBLEM("%d user tasks are outside %s (first: %s)", outside, slice, pids);
      free(pids);
      free(slice);
      free(file);
      free(effective);
    }
  }
#undef PROBLEM
  free(online);
  facts_free(&f);
  jv_set(result, "verify_ms", jv_dbl(ms_since(start)));
  pthread_mutex_unlock(&lock);
  if (count) {
    sbuf b = {0};
    for (size_t i = 0; i < count; i++) sb_addf(&b, "%s%s", i ? "; " : "", problems[i]);
    char *text = sb_take(&b);
    fail(err, ERR_VERIFY, "%s: mode %s does not hold: %s.", host, kind_names[kind], text);
    free(text);
    free_strings(problems, count);
    free(host);
    jv_free(result);
    return NULL;
  }
  free(host);
  return jv_set(result, "ok", jv_bool(true));
}

void modes_init(void) { active.on = false; }
