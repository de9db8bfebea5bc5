#define _GNU_SOURCE
#include "pvbench_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int pvb_futex_wait(uint32_t *word, uint32_t expected) {
  long r = syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
  if (r == 0) return 0;
  if (errno == EAGAIN) return 0;
  return -errno;
}

int pvb_futex_wake(uint32_t *word, int count) {
  long r = syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
  return r < 0 ? -errno : (int)r;
}

void pvb_atomic_store_u32(uint32_t *word, uint32_t value) {
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

uint32_t pvb_atomic_load_u32(const uint32_t *word) {
  return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

uint32_t pvb_atomic_exchange_u32(uint32_t *word, uint32_t value) {
  return __atomic_exchange_n(word, value, __ATOMIC_ACQ_REL);
}

int pvb_atomic_cas_u32(uint32_t *word, uint32_t expected, uint32_t desired) {
  return __atomic_compare_exchange_n(word, &expected, desired, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}

uintptr_t pvb_atomic_exchange_uptr(uintptr_t *word, uintptr_t value) {
  return __atomic_exchange_n(word, value, __ATOMIC_ACQ_REL);
}

int pvb_atomic_cas_uptr(uintptr_t *word, uintptr_t expected, uintptr_t desired) {
  return __atomic_compare_exchange_n(word, &expected, desired, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}

uintptr_t pvb_atomic_load_uptr(const uintptr_t *word) {
  return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

int32_t pvb_gettid(void) { return (int32_t)syscall(SYS_gettid); }

int pvb_sched_getcpu(void) {
  int cpu = sched_getcpu();
  return cpu < 0 ? -errno : cpu;
}

int pvb_set_affinity(int32_t tid, const int32_t *cpus, int count) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int i = 0; i < count; i++) {
    if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
  }
  return sched_setaffinity(tid, sizeof(set), &set) == 0 ? 0 : -errno;
}

static uint64_t pvb_clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t pvb_monotonic_ns(void) { return pvb_clock_ns(CLOCK_MONOTONIC); }

uint64_t pvb_realtime_ns(void) { return pvb_clock_ns(CLOCK_REALTIME); }

void pvb_sleep_ns(uint64_t nanoseconds) {
  struct timespec req = {.tv_sec = (time_t)(nanoseconds / 1000000000ull),
                         .tv_nsec = (long)(nanoseconds % 1000000000ull)};
  struct timespec rem;
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem) == EINTR) req = rem;
}

void pvb_sleep_until_ns(uint64_t deadline) {
  struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000ull),
                        .tv_nsec = (long)(deadline % 1000000000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

void pvb_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#elif defined(__powerpc64__)
  // Low then medium SMT priority, as the kernel's cpu_relax does on POWER (the portable
  // agent runs this file there).
  __asm__ __volatile__("or 1,1,1\n\tor 2,2,2" ::: "memory");
#else
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

uint64_t pvb_atomic_fetch_add_u64(uint64_t *word, uint64_t value) {
  return __atomic_fetch_add(word, value, __ATOMIC_RELAXED);
}

uint64_t pvb_atomic_load_u64(const uint64_t *word) {
  return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

void pvb_atomic_store_u64(uint64_t *word, uint64_t value) {
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

extern char **environ;

int pvb_set_fifo_priority(int priority) {
  struct sched_param param = {.sched_priority = priority};
  return sched_setscheduler(0, SCHED_FIFO, &param) == 0 ? 0 : -errno;
}

int pvb_pipe_cloexec(int32_t *fds) {
  int pair[2];
  if (pipe2(pair, O_CLOEXEC) != 0) return -errno;
  fds[0] = pair[0];
  fds[1] = pair[1];
  return 0;
}

int pvb_spawn_with_parent_death(const char *path, char *const *argv, char *const *envp,
                                const int32_t *fds, int fd_count, const char *directory,
                                int new_group, int death_signal, int32_t *pid) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return errno;
  sigset_t all, old;
  sigfillset(&all);
  // No handler of this process may run in the child before the defaults are set.
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    int failure = 0;
    close(report[0]);
    for (int signo = 1; signo < NSIG; signo++) signal(signo, SIG_DFL);
    if (new_group && setpgid(0, 0) != 0) failure = errno;
    for (int i = 0; failure == 0 && fds != NULL && i < fd_count; i++) {
      if (fds[2 * i] == fds[2 * i + 1]) {
        int flags = fcntl(fds[2 * i], F_GETFD);
        if (flags < 0 || fcntl(fds[2 * i], F_SETFD, flags & ~FD_CLOEXEC) != 0) failure = errno;
      } else if (dup2(fds[2 * i], fds[2 * i + 1]) < 0) {
        failure = errno;
      }
    }
    if (failure == 0 && directory != NULL && chdir(directory) != 0) failure = errno;
    // A spawning thread on SCHED_FIFO must not hand that policy on (CPU burners would starve it).
    struct sched_param normal = {.sched_priority = 0};
    if (failure == 0 && sched_getscheduler(0) != SCHED_OTHER &&
        sched_setscheduler(0, SCHED_OTHER, &normal) != 0)
      failure = errno;
    if (failure == 0 && prctl(PR_SET_PDEATHSIG, death_signal) != 0) failure = errno;
    if (failure == 0 && getppid() != parent) _exit(128 + death_signal);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (failure == 0) {
      execve(path, argv, envp);
      failure = errno;
    }
    ssize_t ignored = write(report[1], &failure, sizeof failure);
    (void)ignored;
    _exit(127);
  }
  int fork_error = child < 0 ? errno : 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(report[1]);
  if (child < 0) {
    close(report[0]);
    return fork_error;
  }
  int failure = 0;
  ssize_t count;
  do {
    count = read(report[0], &failure, sizeof failure);
  } while (count < 0 && errno == EINTR);
  close(report[0]);
  if (count == (ssize_t)sizeof failure && failure != 0) {
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return failure;
  }
  *pid = child;
  return 0;
}
