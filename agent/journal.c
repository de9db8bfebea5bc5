/* The restore journal (docs/modes.md, "Restore journal"): one fsynced JSON line before
   every change, replayed in reverse to restore, and the recovery of journals that dead
   agents left (HostAgent/Modes/RestoreJournal, JournalReplayer, JournalRestorer). */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *g_journal;
static int journal_fd = -1;

void jentry_free(jentry *e) {
  free(e->path);
  free(e->original);
  free(e->value);
  free(e->from);
  free(e->name);
  free(e->fallback);
}

static jv *entry_json(const jentry *e) {
  jv *o = jv_set(jv_obj(), "kind", jv_str(e->kind));
  if (e->path && *e->path) jv_set(o, "path", jv_str(e->path));
  if (!strcmp(e->kind, "write")) {
    jv_set(o, "original", jv_str(e->original));
    jv_set(o, "value", jv_str(e->value));
  }
  if (e->pid) jv_set(o, "pid", jv_int(e->pid));
  if (e->from && *e->from) jv_set(o, "from", jv_str(e->from));
  if (e->name && *e->name) jv_set(o, "name", jv_str(e->name));
  if (e->fallback && *e->fallback) jv_set(o, "fallback", jv_str(e->fallback));
  return o;
}

bool journal_exists(void) { return path_exists(g_journal); }

static bool write_line(const jentry *e, char **error) {
  jv *o = entry_json(e);
  char *text = jv_dump(o);
  jv_free(o);
  char *line = xasprintf("%s\n", text);
  free(text);
  size_t n = strlen(line);
  bool ok = write(journal_fd, line, n) == (ssize_t)n && fsync(journal_fd) == 0;
  free(line);
  if (!ok) {
    char *real = host_path(g_journal);
    *error = xasprintf("Writing the restore journal %s failed: %s; nothing more was changed.", real,
                       strerror(errno));
    free(real);
  }
  return ok;
}

bool journal_append(const jentry *e, char **error) {
  if (journal_fd < 0) {
    char *real = host_path(g_journal);
    char *directory = dir_name(real);
    mkdir_p(directory);
    bool created = !journal_exists();
    journal_fd = open(real, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (journal_fd < 0) {
      *error = xasprintf("Cannot open the restore journal %s: %s; nothing was changed.", real, strerror(errno));
      free(real);
      free(directory);
      return false;
    }
    free(real);
    if (created) {
      int dir_fd = open(directory, O_RDONLY | O_DIRECTORY);
      if (dir_fd >= 0) {
        fsync(dir_fd);
        close(dir_fd);
      }
      jentry begin = {.kind = "begin", .pid = getpid(), .name = "pvbench " PVA_VERSION};
      if (!write_line(&begin, error)) {
        free(directory);
        return false;
      }
    }
    free(directory);
  }
  if (!write_line(e, error)) return false;
  if (after_journal_append) after_journal_append();
  return true;
}

void journal_remove(void) {
  if (journal_fd >= 0) close(journal_fd);
  journal_fd = -1;
  char *real = host_path(g_journal);
  unlink(real);
  free(real);
}

static char *member(const jv *o, const char *key) {
  const char *s = jv_str_of(jv_get(o, key));
  return xstrdup(s ? s : "");
}

jentry *journal_entries(const char *host_path_of_journal, size_t *count) {
  static const char *kinds[] = {"begin", "write", "mkdir", "move", "subtree-add", "module-load"};
  char *text = read_file(host_path_of_journal);
  jentry *entries = NULL;
  *count = 0;
  if (!text) return NULL;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    jv *o = jv_parse(line, strlen(line));
    const char *kind = jv_str_of(jv_get(o, "kind"));
    bool known = false;
    for (size_t i = 0; kind && i < 6; i++) known |= !strcmp(kind, kinds[i]);
    if (known) {
      jentry e = {0};
      snprintf(e.kind, sizeof e.kind, "%s", kind);
      e.path = member(o, "path");
      e.original = member(o, "original");
      e.value = member(o, "value");
      e.from = member(o, "from");
      e.name = member(o, "name");
      e.fallback = member(o, "fallback");
      if (!jv_int_of(jv_get(o, "pid"), &e.pid)) e.pid = 0;
      entries = xrealloc(entries, (*count + 1) * sizeof *entries);
      entries[(*count)++] = e;
    }
    jv_free(o);
  }
  free(text);
  return entries;
}

/* ---- replay ---- */

static void add_problem(replay_outcome *o, char *sentence) {
  o->problems = xrealloc(o->problems, (o->problem_count + 1) * sizeof *o->problems);
  o->problems[o->problem_count++] = sentence;
}

/* True when the file reads back as the entry's original (as cpulists when both are). */
static bool matches(const jentry *e) {
  char *now = read_trimmed(e->path);
  if (!now) return false;
  char *original = trim(xstrdup(e->original));
  bool same = !strcmp(now, original);
  if (!same) {
    cpus a, b;
    bool pa = cpus_parse(now, &a), pb = cpus_parse(original, &b);
    if (pa && pb) same = cpus_same_set(&a, &b);
    if (pa) cpus_free(&a);
    if (pb) cpus_free(&b);
  }
  free(now);
  free(original);
  return same;
}

static bool enables(const char *path, const char *name) {
  char *text = read_file(path);
  bool enabled = has_token(text, name);
  free(text);
  return enabled;
}

/* Undoes one entry: 1 when it changed something, 0 when nothing was left to undo,
   -1 with `e` set when the kernel refused. */
static int undo(const jentry *entry, kerr *e) {
  const char *kind = entry->kind;
  if (!strcmp(kind, "write")) {
    if (!path_exists(entry->path) || matches(entry)) return 0;
    return kernel.write(*entry->original ? entry->original : "\n", entry->path, e) ? -1 : 1;
  }
  if (!strcmp(kind, "move")) {
    char *proc = xasprintf("/proc/%lld", (long long)entry->pid);
    bool alive = path_exists(proc);
    free(proc);
    if (!alive) return 0;
    char *pid = xasprintf("%lld", (long long)entry->pid);
    int rc = kernel.write(pid, entry->from, e);
    free(pid);
    if (rc && (e->err == ESRCH || e->err == ENOENT)) return 0;
    return rc ? -1 : 1;
  }
  if (!strcmp(kind, "mkdir")) {
    if (!path_exists(entry->path)) return 0;
    char *procs = xasprintf("%s/cgroup.procs", entry->path);
    char *left = read_file(procs);
    free(procs);
    int rc = 0;
    if (left)
      for (char *pid = strtok(left, "\n"); pid && rc == 0; pid = strtok(NULL, "\n")) {
        rc = kernel.write(pid, entry->fallback, e);
        if (rc && e->err == ESRCH) rc = 0;
      }
    free(left);
    if (rc) return -1;
    return kernel.remove_dir(entry->path, e) ? -1 : 1;
  }
  if (!strcmp(kind, "subtree-add")) {
    if (!path_exists(entry->path) || !enables(entry->path, entry->name)) return 0;
    char *value = xasprintf("-%s", entry->name);
    int rc = kernel.write(value, entry->path, e);
    free(value);
    return rc ? -1 : 1;
  }
  if (!strcmp(kind, "module-load")) {
    if (!kernel.module_loaded(entry->name)) return 0;
    return kernel.unload_module(entry->name, e) ? -1 : 1;
  }
  return 0;
}

static void verify_entries(const jentry *entries, size_t count, replay_outcome *o) {
  for (size_t i = 0; i < count; i++) {
    const jentry *e = &entries[i];
    if (!strcmp(e->kind, "write")) {
      bool first = true;
      for (size_t j = 0; j < i && first; j++)
        first = !(!strcmp(entries[j].kind, "write") && !strcmp(entries[j].path, e->path));
      if (!first || !path_exists(e->path) || matches(e)) continue;
      char *now = read_trimmed(e->path), *original = trim(xstrdup(e->original));
      add_problem(o, xasprintf("%s reads '%s' instead of '%s'.", e->path, now ? now : "", original));
      free(now);
      free(original);
    } else if (!strcmp(e->kind, "mkdir")) {
      if (path_exists(e->path)) add_problem(o, xasprintf("The cgroup %s still exists.", e->path));
    } else if (!strcmp(e->kind, "subtree-add")) {
      if (enables(e->path, e->name)) add_problem(o, xasprintf("%s still enables '%s'.", e->path, e->name));
    } else if (!strcmp(e->kind, "module-load")) {
      if (kernel.module_loaded(e->name)) add_problem(o, xasprintf("The module %s is still loaded.", e->name));
    }
  }
}

void replay(const jentry *entries, size_t count, replay_outcome *o) {
  *o = (replay_outcome){0};
  for (size_t i = count; i-- > 0;) {
    const jentry *entry = &entries[i];
    if (!strcmp(entry->kind, "write")) {
      /* Only the earliest write of a path holds the original: undo that one alone. */
      bool first = true;
      for (size_t j = 0; j < i && first; j++)
        first = !(!strcmp(entries[j].kind, "write") && !strcmp(entries[j].path, entry->path));
      if (!first) continue;
    }
    kerr e = {0};
    int rc = undo(entry, &e);
    if (rc > 0) o->undone++;
    if (rc < 0) {
      char *text = kerr_text(&e);
      add_problem(o, xasprintf("Undoing %s failed: %s", entry->kind, text));
      free(text);
    }
    kerr_clear(&e);
  }
  verify_entries(entries, count, o);
}

void replay_outcome_free(replay_outcome *o) { free_strings(o->problems, o->problem_count); }

/* True when `pid` runs a pvbench agent now (this machine's real /proc). */
static bool live_agent(int64_t pid) {
  if (kill((pid_t)pid, 0) != 0 && errno != EPERM) return false;
  char path[64];
  snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
  FILE *file = fopen(path, "r");
  if (!file) return false;
  char stat[1024] = {0};
  size_t n = fread(stat, 1, sizeof stat - 1, file);
  fclose(file);
  stat[n] = 0;
  const char *close = strrchr(stat, ')');
  if (!close) return false;
  const char *state = close + 1;
  while (*state == ' ') state++;
  return strstr(stat, "(pvbench") && *state != 'Z' && *state != 'X';
}

jv *recover_leftovers(void) {
  jv *recovered = jv_arr();
  size_t n;
  char **names = list_dir(PATH_JOURNALS, &n);
  for (size_t i = 0; i < n; i++) {
    size_t length = strlen(names[i]);
    if (strncmp(names[i], "journal-", 8) || length < 6 || strcmp(names[i] + length - 6, ".jsonl")) continue;
    char *file = xasprintf(PATH_JOURNALS "/%s", names[i]);
    size_t count;
    jentry *entries = journal_entries(file, &count);
    int64_t owner = 0;
    for (size_t j = 0; j < count && !owner; j++)
      if (!strcmp(entries[j].kind, "begin")) owner = entries[j].pid ? entries[j].pid : -1;
    if (owner > 0 && owner != getpid() && live_agent(owner)) {
      for (size_t j = 0; j < count; j++) jentry_free(&entries[j]);
      free(entries);
      free(file);
      continue;
    }
    replay_outcome o;
    replay(entries, count, &o);
    if (o.problem_count == 0) {
      char *real = host_path(file);
      unlink(real);
      free(real);
    }
    jv *problems = jv_arr();
    for (size_t j = 0; j < o.problem_count; j++) jv_push(problems, jv_str(o.problems[j]));
    jv *report = jv_obj();
    jv_set(report, "journal", jv_str(file));
    jv_set(report, "undone", jv_int(o.undone));
    jv_set(report, "restored", jv_bool(o.problem_count == 0));
    jv_set(report, "problems", problems);
    jv_push(recovered, report);
    replay_outcome_free(&o);
    for (size_t j = 0; j < count; j++) jentry_free(&entries[j]);
    free(entries);
    free(file);
  }
  free_strings(names, n);
  return recovered;
}
