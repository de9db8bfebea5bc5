/* The agent protocol's serve loop (HostAgent/AgentServer, AgentProtocol/LineChannel):
   newline-delimited JSON, one request at a time, events between lines. */
#define _GNU_SOURCE
#include "agent.h"
#include "workloads.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int in_fd = 0, out_fd = 1;
static void (*pending_fn)(void *);
static void *pending_arg;

void after_reply(void (*fn)(void *), void *arg) {
  pending_fn = fn;
  pending_arg = arg;
}
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static bool out_closed, handshake_done, stop_requested;

jv *fail(agent_error *err, const char *code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  free(err->message);
  err->code = code;
  if (vasprintf(&err->message, format, args) < 0) abort();
  va_end(args);
  return NULL;
}

/* ---- the channel ---- */

void emit_line(const char *line) {
  pthread_mutex_lock(&out_lock);
  if (!out_closed) {
    size_t n = strlen(line), done = 0;
    char *text = xasprintf("%s\n", line);
    while (done < n + 1) {
      ssize_t written = write(out_fd, text + done, n + 1 - done);
      if (written > 0) done += (size_t)written;
      else if (written < 0 && errno == EINTR) continue;
      else if (written < 0 && errno == EAGAIN) {
        struct pollfd p = {out_fd, POLLOUT, 0};
        poll(&p, 1, 1000);
      } else break; /* the controller is gone; the read loop notices */
    }
    free(text);
  }
  pthread_mutex_unlock(&out_lock);
}

void pva_emit(const char *json_object) { emit_line(json_object); }
const char *pva_root(void) { return g_root; }

void emit_event(const char *name, jv *fields) {
  jv_set(fields, "event", jv_str(name));
  char *line = jv_dump(fields);
  emit_line(line);
  free(line);
  jv_free(fields);
}

static void close_write(void) {
  pthread_mutex_lock(&out_lock);
  if (!out_closed) {
    out_closed = true;
    if (out_fd != in_fd) close(out_fd);
    else shutdown(out_fd, SHUT_WR);
  }
  pthread_mutex_unlock(&out_lock);
}

static struct {
  char *p;
  size_t start, n, cap;
} input;

/* One whole line without its newline (malloc'd); NULL at end of file, on a hang-up or
   an error, or past 16 MiB without a newline: the controller is gone. */
static char *read_line(void) {
  for (;;) {
    char *newline = input.n > input.start ? memchr(input.p + input.start, '\n', input.n - input.start) : NULL;
    if (newline) {
      char *line = strndup(input.p + input.start, (size_t)(newline - input.p - (ptrdiff_t)input.start));
      input.start = (size_t)(newline - input.p) + 1;
      if (input.start > 65536) {
        memmove(input.p, input.p + input.start, input.n - input.start);
        input.n -= input.start;
        input.start = 0;
      }
      return line;
    }
    if (input.n - input.start > (16u << 20)) return NULL;
    if (input.cap - input.n < 65536) input.p = xrealloc(input.p, input.cap = input.cap * 2 + 65536);
    ssize_t count = read(in_fd, input.p + input.n, input.cap - input.n);
    if (count > 0) input.n += (size_t)count;
    else if (count < 0 && errno == EINTR) continue;
    else if (count < 0 && errno == EAGAIN) {
      struct pollfd p = {in_fd, POLLIN, 0};
      poll(&p, 1, 1000);
    } else return NULL;
  }
}

/* ---- handlers ---- */

typedef jv *(*handler)(const jv *params, agent_error *err);

static int64_t major_of(const char *version, bool *ok) {
  while (*version == '.') version++;
  size_t n = strcspn(version, ".");
  char *first = strndup(version, n);
  int64_t major = 0;
  *ok = n > 0 && parse_int(first, &major);
  free(first);
  return major;
}

static jv *op_hello(const jv *params, agent_error *err) {
  const char *version = jv_str_of(jv_get(params, "protocol"));
  bool ok = false;
  int64_t major = version ? major_of(version, &ok) : 0;
  if (!ok)
    return fail(err, ERR_BAD_PARAMS, "'hello' needs \"protocol\": \"major.minor\" (this agent speaks " PVA_PROTOCOL ").");
  if (major != PVA_PROTOCOL_MAJOR)
    return fail(err, ERR_MISMATCH,
                "The controller speaks protocol %s but this agent speaks " PVA_PROTOCOL
                "; use the same pvbench version on both ends.",
                version);
  handshake_done = true;
  jv *o = jv_obj();
  jv_set(o, "protocol", jv_str(PVA_PROTOCOL));
  jv_set(o, "version", jv_str(PVA_VERSION));
  jv_set(o, "pid", jv_int(getpid()));
  jv_set(o, "root", jv_str(g_root));
  return jv_set(o, "journal", jv_str(g_journal));
}

static jv *op_ping(const jv *params, agent_error *err) {
  (void)params, (void)err;
  return jv_set(jv_obj(), "pong", jv_bool(true));
}

static jv *op_clock(const jv *params, agent_error *err) {
  (void)params, (void)err;
  jv *o = jv_set(jv_obj(), "monotonic_ns", jv_int((int64_t)pvb_monotonic_ns()));
  return jv_set(o, "realtime_ns", jv_int((int64_t)pvb_realtime_ns()));
}

static jv *op_facts(const jv *params, agent_error *err) {
  (void)params, (void)err;
  facts f;
  facts_read(&f);
  jv *o = facts_json(&f);
  facts_free(&f);
  return o;
}

static jv *op_mode_apply(const jv *params, agent_error *err) { return mode_apply(params, err); }
static jv *op_mode_verify(const jv *params, agent_error *err) { (void)params; return mode_verify(err); }
static jv *op_mode_restore(const jv *params, agent_error *err) { (void)params; return mode_restore(err); }
static jv *op_sample_stop(const jv *params, agent_error *err) { (void)params, (void)err; return sample_stop(); }
static jv *op_workload_stop(const jv *params, agent_error *err) { (void)params, (void)err; return workload_stop(); }
static jv *op_stress_stop(const jv *params, agent_error *err) { (void)params, (void)err; return stress_stop(); }

static jv *op_shutdown(const jv *params, agent_error *err) {
  (void)params;
  stress_stop();
  workload_stop();
  monitors_stop_all();
  jv *restored = mode_restore(err);
  if (!restored) return NULL;
  stop_requested = true;
  return jv_set(jv_obj(), "restored", restored);
}

/* Sorted by name: the unknown-op message lists them in this order. */
static const struct {
  const char *op;
  handler run;
} handlers[] = {
    {"clock", op_clock},
    {"facts", op_facts},
    {"hello", op_hello},
    {"kmsg.watch", kmsg_watch},
    {"mode.apply", op_mode_apply},
    {"mode.restore", op_mode_restore},
    {"mode.verify", op_mode_verify},
    {"ping", op_ping},
    {"sample.start", sample_start},
    {"sample.stop", op_sample_stop},
    {"shutdown", op_shutdown},
    {"stress.start", stress_start},
    {"stress.stop", op_stress_stop},
    {"workload.start", workload_start},
    {"workload.stop", op_workload_stop},
};
#define HANDLER_COUNT (sizeof handlers / sizeof handlers[0])

/* The line quoted for a message, cut at 80 characters. */
static char *clip(const char *line) {
  size_t characters = 0, cut = 0;
  for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
    if ((*p & 0xC0) == 0x80) continue;
    if (characters++ == 80) cut = (size_t)((const char *)p - line);
  }
  if (characters <= 80) return xasprintf("'%s'", line);
  return xasprintf("'%.*s\xe2\x80\xa6'", (int)cut, line);
}

static char *reply(jv *id, jv *result, agent_error *err) {
  jv *o = jv_obj();
  jv_set(o, "id", id ? id : jv_null());
  jv_set(o, "ok", jv_bool(result != NULL));
  if (result) jv_set(o, "result", result);
  else {
    jv *e = jv_set(jv_obj(), "code", jv_str(err->code));
    jv_set(e, "message", jv_str(err->message ? err->message : ""));
    jv_set(o, "error", e);
  }
  char *line = jv_dump(o);
  jv_free(o);
  return line;
}

static jv *copy_id(const jv *id) {
  char *text = jv_dump(id);
  jv *copy = jv_parse(text, strlen(text));
  free(text);
  return copy;
}

/* Handles one request line; never fails, never stops the agent. */
static char *handle(const char *line) {
  agent_error err = {0};
  char *out = NULL;
  jv *request = jv_parse(line, strlen(line));
  if (!request) {
    char *quoted = clip(line);
    fail(&err, ERR_MALFORMED, "The request is not valid JSON: %s.", quoted);
    free(quoted);
    out = reply(NULL, NULL, &err);
    goto done;
  }
  jv *id_value = jv_get(request, "id");
  jv *id = id_value ? copy_id(id_value) : jv_null();
  int64_t number;
  if (request->t != JOBJ || !(jv_int_of(id, &number) || jv_str_of(id))) {
    char *quoted = clip(line);
    fail(&err, ERR_MALFORMED, "The request has no \"id\" (a number or string): %s.", quoted);
    free(quoted);
    out = reply(id, NULL, &err);
    goto done;
  }
  const char *op = jv_str_of(jv_get(request, "op"));
  if (!op) {
    fail(&err, ERR_MALFORMED, "The request has no \"op\" string.");
    out = reply(id, NULL, &err);
    goto done;
  }
  jv *params = jv_get(request, "params");
  jv *empty = jv_obj();
  if (!params) params = empty;
  if (params->t != JOBJ) {
    fail(&err, ERR_BAD_PARAMS, "\"params\" of '%s' must be an object.", op);
    out = reply(id, NULL, &err);
    jv_free(empty);
    goto done;
  }
  handler run = NULL;
  for (size_t i = 0; i < HANDLER_COUNT; i++)
    if (!strcmp(handlers[i].op, op)) run = handlers[i].run;
  if (!run) {
    sbuf known = {0};
    for (size_t i = 0; i < HANDLER_COUNT; i++) sb_addf(&known, "%s%s", i ? ", " : "", handlers[i].op);
    char *list = sb_take(&known);
    fail(&err, ERR_UNKNOWN_OP, "Unknown op '%s'; this agent knows: %s.", op, list);
    free(list);
    out = reply(id, NULL, &err);
  } else if (!handshake_done && strcmp(op, "hello")) {
    fail(&err, ERR_HANDSHAKE, "Send the 'hello' request with your protocol version before '%s'.", op);
    out = reply(id, NULL, &err);
  } else {
    jv *result = run(params, &err);
    if (!result && !err.code) fail(&err, ERR_FAILED, "'%s' failed.", op);
    out = reply(id, result, &err);
  }
  jv_free(empty);
done:
  jv_free(request);
  free(err.message);
  return out;
}

char *finish(void) {
  stress_stop();
  workload_stop();
  monitors_stop_all();
  agent_error err = {0};
  jv *restored = mode_restore(&err);
  jv_free(restored);
  return restored ? NULL : err.message;
}

int serve(int read_fd, int write_fd) {
  in_fd = read_fd;
  out_fd = write_fd;
  jv *hello = jv_obj();
  jv_set(hello, "protocol", jv_str(PVA_PROTOCOL));
  jv_set(hello, "version", jv_str(PVA_VERSION));
  jv_set(hello, "pid", jv_int(getpid()));
  jv_set(hello, "recovered", recover_leftovers());
  emit_event("hello", hello);
  char *line;
  while ((line = read_line())) {
    char *start = line;
    while (*start == ' ' || *start == '\t') start++;
    size_t n = strlen(start);
    while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t')) start[--n] = 0;
    if (!*start) {
      free(line);
      continue;
    }
    char *answer = handle(start);
    free(line);
    emit_line(answer);
    free(answer);
    if (pending_fn) {
      pending_fn(pending_arg);
      pending_fn = NULL;
    }
    if (stop_requested) {
      close_write();
      return 0;
    }
  }
  free(finish());
  return 0;
}
