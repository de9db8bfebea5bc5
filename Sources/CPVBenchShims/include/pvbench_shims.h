#ifndef PVBENCH_SHIMS_H
#define PVBENCH_SHIMS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Waits on a futex word while it still holds `expected`.
///
/// Returns 0 when woken (or when the word no longer equals `expected`, in
/// which case the kernel returns EAGAIN and this returns 0 too, because the
/// caller re-checks the word either way), or -errno for any other failure.
/// EINTR is returned to the caller so it can re-check its own state.
int pvb_futex_wait(uint32_t *_Nonnull word, uint32_t expected);

/// Wakes up to `count` waiters on a futex word. Returns the number woken or -errno.
int pvb_futex_wake(uint32_t *_Nonnull word, int count);

/// Atomically stores `value` into `word` with release ordering.
void pvb_atomic_store_u32(uint32_t *_Nonnull word, uint32_t value);

/// Atomically loads `word` with acquire ordering.
uint32_t pvb_atomic_load_u32(const uint32_t *_Nonnull word);

/// Atomically exchanges `word` with `value`, returning the old value (acq_rel).
uint32_t pvb_atomic_exchange_u32(uint32_t *_Nonnull word, uint32_t value);

/// Compare-and-swap on `word`; returns 1 when `expected` was replaced by `desired`.
int pvb_atomic_cas_u32(uint32_t *_Nonnull word, uint32_t expected, uint32_t desired);

/// Atomically exchanges a pointer-sized word (acq_rel); used for lock-free wake lists.
uintptr_t pvb_atomic_exchange_uptr(uintptr_t *_Nonnull word, uintptr_t value);

/// Compare-and-swap on a pointer-sized word; returns 1 on success.
int pvb_atomic_cas_uptr(uintptr_t *_Nonnull word, uintptr_t expected, uintptr_t desired);

/// Atomically loads a pointer-sized word (acquire).
uintptr_t pvb_atomic_load_uptr(const uintptr_t *_Nonnull word);

/// Returns the calling thread's kernel thread id.
int32_t pvb_gettid(void);

/// Returns the CPU the calling thread runs on, or -errno.
int pvb_sched_getcpu(void);

/// Pins thread `tid` (0 = caller) to the CPUs listed in `cpus[0..<count]`. Returns 0 or -errno.
int pvb_set_affinity(int32_t tid, const int32_t *_Nonnull cpus, int count);

/// Monotonic clock in nanoseconds (CLOCK_MONOTONIC).
uint64_t pvb_monotonic_ns(void);

/// Wall clock in nanoseconds since the epoch (CLOCK_REALTIME).
uint64_t pvb_realtime_ns(void);

/// Sleeps for `nanoseconds` with clock_nanosleep, resuming after EINTR.
void pvb_sleep_ns(uint64_t nanoseconds);

/// Sleeps until the monotonic clock reaches `deadline` nanoseconds (TIMER_ABSTIME), resuming
/// after EINTR. Returns at once when the deadline has passed.
void pvb_sleep_until_ns(uint64_t deadline);

/// Hints the CPU that the caller is spinning (x86 `pause`, arm64 `yield`, POWER's SMT
/// priority nops), for spin locks and busy loops.
void pvb_cpu_relax(void);

/// The schbench request's CPU work: `third = first × second` for three `side`×`side`
/// matrices of unsigned 64-bit integers stored one after another from `block`, naively,
/// the product's element written back on every step (matrix.c says why it is C).
void pvb_matrix_multiply(uint64_t *_Nonnull block, uint64_t side);

/// Atomically adds `value` to a 64-bit word (relaxed) and returns the previous value.
uint64_t pvb_atomic_fetch_add_u64(uint64_t *_Nonnull word, uint64_t value);

/// Atomically loads a 64-bit word (acquire).
uint64_t pvb_atomic_load_u64(const uint64_t *_Nonnull word);

/// Atomically stores a 64-bit word (release).
void pvb_atomic_store_u64(uint64_t *_Nonnull word, uint64_t value);

/// Moves the calling thread to SCHED_FIFO at `priority` (1–99). Returns 0 or -errno
/// (-EPERM without CAP_SYS_NICE); callers treat failure as "keep the normal policy".
int pvb_set_fifo_priority(int priority);

/// Creates a pipe whose both ends are close-on-exec from the start (pipe2 with O_CLOEXEC),
/// so a process spawned by another thread at the same moment never inherits them.
/// Stores the read end in `fds[0]` and the write end in `fds[1]`. Returns 0 or -errno.
int pvb_pipe_cloexec(int32_t *_Nonnull fds);

/// Starts `path` with `argv` and `envp` in a forked child that the kernel ends with
/// `death_signal` when the thread that spawned it ends (PR_SET_PDEATHSIG), and so when this
/// process ends, SIGKILL included: no child outlives pvbench.
///
/// The child, before execve: sets every signal to its default disposition and unblocks
/// them all; moves into a process group of its own when `new_group` is non-zero; duplicates
/// `fds[2*i]` onto `fds[2*i+1]` for `i < fd_count` (0, 1, 2 for stdio) in that order;
/// changes to `directory` when given; runs under SCHED_OTHER whatever the spawning thread's
/// policy; sets the parent-death signal, and exits at once with
/// `death_signal` semantics if the parent already died in between (getppid differs).
/// The kernel sends the parent-death signal when the *thread* that forked ends, so callers
/// spawn from a thread that lives as long as the process.
/// Only async-signal-safe calls run between fork and execve.
/// Stores the child's pid in `pid`. Returns 0, or a positive errno from fork, from a step
/// in the child (reported through a close-on-exec pipe), or from execve.
int pvb_spawn_with_parent_death(const char *_Nonnull path, char *_Nullable const *_Nonnull argv,
                                char *_Nullable const *_Nonnull envp,
                                const int32_t *_Nullable fds, int fd_count,
                                const char *_Nullable directory, int new_group,
                                int death_signal, int32_t *_Nonnull pid);

#ifdef __cplusplus
}
#endif

#endif /* PVBENCH_SHIMS_H */
