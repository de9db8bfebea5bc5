/* The kernel's own files under the root (LinuxHost/SysfsWriter's KernelSysfsWriter):
   one write(2) per value, errno from the kernel; modules only on the real host. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void (*after_journal_append)(void);

char *kerr_text(const kerr *e) {
  return xasprintf("%s to %s failed: %s (errno %d).", e->action, e->path, strerror(e->err), e->err);
}

void kerr_clear(kerr *e) {
  free(e->path);
  free(e->action);
  *e = (kerr){0};
}

int kernel_fail(kerr *e, int err, const char *path, const char *format, ...) {
  kerr_clear(e);
  va_list args;
  va_start(args, format);
  if (vasprintf(&e->action, format, args) < 0) abort();
  va_end(args);
  e->err = err;
  e->path = xstrdup(path);
  return -1;
}

static int real_write(const char *value, const char *path, kerr *e) {
  char *real = host_path(path);
  int fd = open(real, O_WRONLY | O_CLOEXEC);
  free(real);
  if (fd < 0) return kernel_fail(e, errno, path, "write '%s'", value);
  for (;;) {
    if (write(fd, value, strlen(value)) >= 0) break;
    if (errno != EINTR) {
      int err = errno;
      close(fd);
      return kernel_fail(e, err, path, "write '%s'", value);
    }
  }
  close(fd);
  return 0;
}

static int real_make_dir(const char *path, kerr *e) {
  char *real = host_path(path);
  int rc = mkdir(real, 0755);
  int err = errno;
  free(real);
  if (rc != 0 && err != EEXIST) return kernel_fail(e, err, path, "mkdir");
  return 0;
}

static int real_remove_dir(const char *path, kerr *e) {
  char *real = host_path(path);
  int rc = rmdir(real);
  int err = errno;
  free(real);
  return rc != 0 ? kernel_fail(e, err, path, "rmdir") : 0;
}

/* Runs a kmod tool (modprobe, rmmod, modinfo) found on PATH or in the sbin folders;
   127 when it is not installed. */
static int run_tool(char *const argv[]) {
  static const char *extra = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  const char *env = getenv("PATH");
  char *search = xasprintf("%s:%s", env ? env : "", extra), *save = NULL;
  char *tool = NULL;
  for (char *dir = strtok_r(search, ":", &save); dir && !tool; dir = strtok_r(NULL, ":", &save)) {
    char *candidate = xasprintf("%s/%s", dir, argv[0]);
    if (access(candidate, X_OK) == 0) tool = candidate;
    else free(candidate);
  }
  free(search);
  if (!tool) return 127;
  pid_t child = fork();
  if (child == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execv(tool, argv);
    _exit(127);
  }
  free(tool);
  int status = 0;
  if (child < 0) return 127;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool module_present(const char *name) {
  char *path = xasprintf("/sys/module/%s", name);
  bool loaded = path_exists(path);
  free(path);
  return loaded;
}

static int real_load_module(const char *name, const char *const *params, size_t count, kerr *e) {
  char *module = xasprintf("/sys/module/%s", name);
  int rc = 0;
  if (!is_real_host()) {
    rc = kernel_fail(e, EPERM, module, "modprobe");
  } else {
    char **argv = xrealloc(NULL, (count + 3) * sizeof *argv);
    argv[0] = "modprobe";
    argv[1] = (char *)name;
    for (size_t i = 0; i < count; i++) argv[2 + i] = (char *)params[i];
    argv[2 + count] = NULL;
    if (run_tool(argv) != 0) rc = kernel_fail(e, EIO, module, "modprobe");
    free(argv);
  }
  free(module);
  return rc;
}

static int real_unload_module(const char *name, kerr *e) {
  char *module = xasprintf("/sys/module/%s", name);
  int rc = 0;
  if (!is_real_host()) rc = kernel_fail(e, EPERM, module, "rmmod");
  else if (run_tool((char *const[]){"rmmod", (char *)name, NULL}) != 0)
    rc = kernel_fail(e, EBUSY, module, "rmmod");
  free(module);
  return rc;
}

/* The agent's own /proc/PID/task/TID/sched under the root. */
static char *real_thread_sched_file(int index, uint64_t tid) {
  (void)index;
  return xasprintf("/proc/%d/task/%llu/sched", (int)getpid(), (unsigned long long)tid);
}

static bool real_module_available(const char *name, const char *release) {
  if (!is_real_host()) return false;
  return module_present(name) ||
         run_tool((char *const[]){"modinfo", "-k", (char *)release, "-n", (char *)name, NULL}) == 0;
}

const kernel_ops real_kernel = {real_write,       real_make_dir,       real_remove_dir,
                                real_load_module, real_unload_module,  real_module_available,
                                module_present, real_thread_sched_file};
kernel_ops kernel = {real_write,       real_make_dir,       real_remove_dir,
                     real_load_module, real_unload_module,  real_module_available,
                     module_present, real_thread_sched_file};
