/* Strings, files under the host root, cpulists, clocks. */
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void *xrealloc(void *p, size_t size) {
  void *q = realloc(p, size ? size : 1);
  if (!q) abort();
  return q;
}

char *xstrdup(const char *s) {
  char *copy = strdup(s ? s : "");
  if (!copy) abort();
  return copy;
}

char *xvasprintf(const char *format, va_list args) {
  char *s = NULL;
  if (vasprintf(&s, format, args) < 0) abort();
  return s;
}

char *xasprintf(const char *format, ...) {
  va_list args;
  va_start(args, format);
  char *s = xvasprintf(format, args);
  va_end(args);
  return s;
}

void sb_addn(sbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    while (b->n + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 256;
    b->p = xrealloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

void sb_add(sbuf *b, const char *s) { sb_addn(b, s, strlen(s)); }

void sb_addf(sbuf *b, const char *format, ...) {
  va_list args;
  va_start(args, format);
  char *s = NULL;
  int n = vasprintf(&s, format, args);
  va_end(args);
  if (n < 0) abort();
  sb_addn(b, s, (size_t)n);
  free(s);
}

char *sb_take(sbuf *b) {
  char *s = b->p ? b->p : xstrdup("");
  b->p = NULL;
  b->n = b->cap = 0;
  return s;
}

/* ---- the root ---- */

char g_root[4096] = "/";

bool is_real_host(void) { return strcmp(g_root, "/") == 0; }

char *host_path(const char *absolute) {
  return is_real_host() ? xstrdup(absolute) : xasprintf("%s%s", g_root, absolute);
}

char *read_file(const char *absolute) {
  size_t length;
  return read_file_n(absolute, &length);
}

char *read_file_n(const char *absolute, size_t *length) {
  *length = 0;
  char *path = host_path(absolute);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  free(path);
  if (fd < 0) return NULL;
  struct stat info;
  if (fstat(fd, &info) != 0 || S_ISDIR(info.st_mode)) {
    close(fd);
    return NULL;
  }
  sbuf b = {0};
  char chunk[8192];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      free(sb_take(&b));
      return NULL;
    }
    if (n == 0) break;
    sb_addn(&b, chunk, (size_t)n);
  }
  close(fd);
  *length = b.n;
  return sb_take(&b);
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

char *trim(char *s) {
  while (is_space(*s)) memmove(s, s + 1, strlen(s));
  size_t n = strlen(s);
  while (n > 0 && is_space(s[n - 1])) s[--n] = 0;
  return s;
}

char *read_trimmed(const char *absolute) {
  char *text = read_file(absolute);
  return text ? trim(text) : NULL;
}

bool path_exists(const char *absolute) {
  char *path = host_path(absolute);
  bool exists = access(path, F_OK) == 0;
  free(path);
  return exists;
}

bool is_writable_attribute(const char *absolute) {
  char *path = host_path(absolute);
  struct stat info;
  bool writable = stat(path, &info) == 0 && (info.st_mode & 0222) != 0;
  free(path);
  return writable;
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

char **list_dir(const char *absolute, size_t *count) {
  char *path = host_path(absolute);
  DIR *dir = opendir(path);
  free(path);
  *count = 0;
  if (!dir) return NULL;
  char **names = NULL;
  size_t cap = 0;
  struct dirent *entry;
  while ((entry = readdir(dir))) {
    if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
    if (*count == cap) names = xrealloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
    names[(*count)++] = xstrdup(entry->d_name);
  }
  closedir(dir);
  if (*count) qsort(names, *count, sizeof *names, compare_strings);
  return names;
}

void free_strings(char **strings, size_t count) {
  for (size_t i = 0; i < count; i++) free(strings[i]);
  free(strings);
}

bool has_token(const char *text, const char *token) {
  size_t n = strlen(token);
  const char *p = text ? text : "";
  while (*p) {
    while (*p && is_space(*p)) p++;
    const char *start = p;
    while (*p && !is_space(*p)) p++;
    if ((size_t)(p - start) == n && n && strncmp(start, token, n) == 0) return true;
  }
  return false;
}

const char *last_component(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

char *dir_name(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return xstrdup("");
  if (slash == path) return xstrdup("/");
  return strndup(path, (size_t)(slash - path));
}

int mkdir_p(const char *real_path) {
  char *copy = xstrdup(real_path);
  for (char *p = copy + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(copy, 0755) != 0 && errno != EEXIST) { free(copy); return -1; }
    *p = '/';
  }
  int rc = mkdir(copy, 0755) != 0 && errno != EEXIST ? -1 : 0;
  free(copy);
  return rc;
}

int remove_tree(const char *real_path) {
  struct stat info;
  if (lstat(real_path, &info) != 0) return -1;
  if (S_ISDIR(info.st_mode)) {
    DIR *dir = opendir(real_path);
    if (!dir) return -1;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
      if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
      char *child = xasprintf("%s/%s", real_path, entry->d_name);
      remove_tree(child);
      free(child);
    }
    closedir(dir);
    return rmdir(real_path);
  }
  return unlink(real_path);
}

double ms_since(uint64_t start) { return (double)(pvb_monotonic_ns() - start) / 1e6; }

bool parse_int(const char *s, int64_t *out) {
  const char *p = s;
  bool negative = false;
  if (*p == '+' || *p == '-') negative = *p++ == '-';
  if (!*p) return false;
  uint64_t value = 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return false;
    unsigned digit = (unsigned)(*p - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  if (negative ? value > (uint64_t)INT64_MAX + 1 : value > (uint64_t)INT64_MAX) return false;
  *out = negative ? (int64_t)(0 - value) : (int64_t)value;
  return true;
}

char *local_host_name(void) {
  char name[256] = {0};
  gethostname(name, sizeof name - 1);
  return xstrdup(name);
}

/* ---- cpulists (LinuxHost/CPUSet) ---- */

void cpus_add(cpus *c, int cpu) {
  if (c->n == c->cap) c->v = xrealloc(c->v, (c->cap = c->cap ? c->cap * 2 : 16) * sizeof *c->v);
  c->v[c->n++] = cpu;
}

bool cpus_has(const cpus *c, int cpu) {
  for (size_t i = 0; i < c->n; i++)
    if (c->v[i] == cpu) return true;
  return false;
}

void cpus_free(cpus *c) {
  free(c->v);
  c->v = NULL;
  c->n = c->cap = 0;
}

static int ascending(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
static int descending(const void *a, const void *b) { return *(const int *)b - *(const int *)a; }

void cpus_sort(cpus *c, bool down) {
  if (c->n) qsort(c->v, c->n, sizeof *c->v, down ? descending : ascending);
}

static void unique_sorted(cpus *c) {
  cpus_sort(c, false);
  size_t out = 0;
  for (size_t i = 0; i < c->n; i++)
    if (out == 0 || c->v[out - 1] != c->v[i]) c->v[out++] = c->v[i];
  c->n = out;
}

bool cpus_parse(const char *text, cpus *out) {
  *out = (cpus){0};
  char *copy = trim(xstrdup(text));
  bool ok = true;
  if (*copy) {
    char *part = copy;
    for (;;) {
      char *comma = strchr(part, ',');
      if (comma) *comma = 0;
      char *dash = strchr(part, '-');
      int64_t low, high;
      if (dash) {
        *dash = 0;
        if (strchr(dash + 1, '-')) ok = false;
      }
      if (!ok || !parse_int(part, &low) || low < 0 || low > INT32_MAX) ok = false;
      else if (dash && !parse_int(dash + 1, &high)) ok = false;
      else {
        if (!dash) high = low;
        if (high < low || high - low >= 1 << 16) ok = false;
        else for (int64_t cpu = low; cpu <= high; cpu++) cpus_add(out, (int)cpu);
      }
      if (!ok || !comma) break;
      part = comma + 1;
    }
  }
  free(copy);
  if (!ok) cpus_free(out);
  else unique_sorted(out);
  return ok;
}

char *cpus_format(const cpus *c) {
  cpus sorted = {0};
  for (size_t i = 0; i < c->n; i++) cpus_add(&sorted, c->v[i]);
  unique_sorted(&sorted);
  sbuf b = {0};
  for (size_t i = 0; i < sorted.n;) {
    size_t end = i;
    while (end + 1 < sorted.n && sorted.v[end + 1] == sorted.v[end] + 1) end++;
    if (i) sb_add(&b, ",");
    if (end == i) sb_addf(&b, "%d", sorted.v[i]);
    else sb_addf(&b, "%d-%d", sorted.v[i], sorted.v[end]);
    i = end + 1;
  }
  cpus_free(&sorted);
  return sb_take(&b);
}

bool cpus_same_set(const cpus *a, const cpus *b) {
  for (size_t i = 0; i < a->n; i++)
    if (!cpus_has(b, a->v[i])) return false;
  for (size_t i = 0; i < b->n; i++)
    if (!cpus_has(a, b->v[i])) return false;
  return true;
}

cpus cpus_minus(const cpus *a, const cpus *b) {
  cpus out = {0};
  for (size_t i = 0; i < a->n; i++)
    if (!cpus_has(b, a->v[i])) cpus_add(&out, a->v[i]);
  return out;
}

bool cpus_read(const char *absolute, cpus *out) {
  char *text = read_trimmed(absolute);
  bool ok = text && cpus_parse(text, out);
  free(text);
  if (!ok) *out = (cpus){0};
  return ok;
}
