/* pvbench-agent: the portable agent's command line (PVBenchCLI/Commands/Agent).
   pvbench-agent [agent] (--stdio | --device PATH) [--root DIR] [--journal FILE] */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

static const char usage[] =
    "USAGE: pvbench-agent [agent] (--stdio | --device PATH) [--root DIR] [--journal FILE]\n"
    "Serves the pvbench agent protocol (docs/agent-protocol.md) on stdio or a character device.\n";

static sigset_t handled;

/* SIGINT, SIGTERM, SIGHUP: restore the host, then exit 130. */
static void *signal_thread(void *arg) {
  (void)arg;
  int number = 0;
  while (sigwait(&handled, &number) != 0) {}
  char *problem = finish();
  if (problem) fprintf(stderr, "pvbench agent: signal %d received; %s\n", number, problem);
  else fprintf(stderr, "pvbench agent: signal %d received; the host is restored and read back.\n", number);
  fflush(stderr);
  _exit(130);
}

static int invalid(const char *message) {
  fprintf(stderr, "Error: %s\n%s", message, usage);
  return 64;
}

int main(int argc, char **argv) {
  /* Another agent's `restore` tells a live agent by a name starting with "pvbench" in
   * /proc/PID/stat; under qemu-user that name would be the emulator's, and on a host the
   * binary may be installed as pvbench-agent-ppc64le (more than comm's 15 characters). */
  prctl(PR_SET_NAME, "pvbench-agent", 0, 0, 0);
  bool use_stdio = false;
  const char *device = NULL, *root = "/", *journal = NULL;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char **target = NULL;
    if (i == 1 && !strcmp(arg, "agent")) continue;
    if (!strcmp(arg, "--stdio")) { use_stdio = true; continue; }
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) { fputs(usage, stdout); return 0; }
    if (!strncmp(arg, "--device", 8)) target = &device;
    else if (!strncmp(arg, "--root", 6)) target = &root;
    else if (!strncmp(arg, "--journal", 9)) target = &journal;
    const char *eq = strchr(arg, '=');
    size_t name = eq ? (size_t)(eq - arg) : strlen(arg);
    if (!target || (name != 8 && name != 6 && name != 9) ||
        (target == &device && name != 8) || (target == &root && name != 6) || (target == &journal && name != 9)) {
      char *message = xasprintf("Unknown option '%s'.", arg);
      return invalid(message);
    }
    if (eq) *target = eq + 1;
    else if (i + 1 < argc) *target = argv[++i];
    else {
      char *message = xasprintf("Missing value for '%s'.", arg);
      return invalid(message);
    }
  }
  if (use_stdio == (device != NULL)) return invalid("Give exactly one of '--stdio' or '--device PATH'.");
  if (root[0] != '/') {
    char *message = xasprintf("'--root' must be an absolute path, got '%s'.", root);
    return invalid(message);
  }
  snprintf(g_root, sizeof g_root, "%s", root);
  for (size_t n = strlen(g_root); n > 1 && g_root[n - 1] == '/'; n--) g_root[n - 1] = 0;
  g_journal = journal ? xstrdup(journal) : xasprintf(PATH_JOURNALS "/journal-%d.jsonl", (int)getpid());
#ifdef PVA_TEST_DOUBLES
  install_test_doubles();
#endif
  modes_init();

  int read_fd = 0, write_fd = 1;
  if (device) {
    int fd = open(device, O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      fprintf(stderr, "pvbench agent: cannot open '%s': %s; check the virtio-serial port name under /dev.\n", device,
              strerror(errno));
      return 1;
    }
    if (isatty(fd)) {
      /* A console or pty: no echo, no line editing, bytes as they come. */
      struct termios settings;
      tcgetattr(fd, &settings);
      cfmakeraw(&settings);
      tcsetattr(fd, TCSANOW, &settings);
    }
    read_fd = write_fd = fd;
  }

  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&handled);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &handled, NULL); /* every thread started from here inherits it */
  pthread_t thread;
  pthread_create(&thread, NULL, signal_thread, NULL);
  return serve(read_fd, write_fd);
}
