/* A small JSON tree: parse one text, build values, write them on one line with
   object keys sorted (as the Swift agent's JSON.serialized does). */
#define _GNU_SOURCE
#include "agent.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jv *make(enum jtype t) {
  jv *v = calloc(1, sizeof *v);
  if (!v) abort();
  v->t = t;
  return v;
}

jv *jv_null(void) { return make(JNULL); }
jv *jv_bool(bool b) { jv *v = make(JBOOL); v->b = b; return v; }
jv *jv_int(int64_t i) { jv *v = make(JINT); v->i = i; return v; }
jv *jv_dbl(double d) { jv *v = make(JDBL); v->d = d; return v; }
jv *jv_str(const char *s) { jv *v = make(JSTR); v->s = xstrdup(s); return v; }
jv *jv_arr(void) { return make(JARR); }
jv *jv_obj(void) { return make(JOBJ); }

jv *jv_strf(const char *format, ...) {
  va_list args;
  va_start(args, format);
  jv *v = make(JSTR);
  v->s = xvasprintf(format, args);
  va_end(args);
  return v;
}

static void grow(jv *v) {
  if (v->n < v->cap) return;
  v->cap = v->cap ? v->cap * 2 : 8;
  v->items = xrealloc(v->items, v->cap * sizeof *v->items);
  if (v->t == JOBJ) v->keys = xrealloc(v->keys, v->cap * sizeof *v->keys);
}

jv *jv_push(jv *array, jv *value) {
  grow(array);
  array->items[array->n++] = value;
  return array;
}

jv *jv_set(jv *object, const char *key, jv *value) {
  for (size_t i = 0; i < object->n; i++) {
    if (strcmp(object->keys[i], key) == 0) {
      jv_free(object->items[i]);
      object->items[i] = value;
      return object;
    }
  }
  grow(object);
  object->keys[object->n] = xstrdup(key);
  object->items[object->n++] = value;
  return object;
}

jv *jv_get(const jv *object, const char *key) {
  if (!object || object->t != JOBJ) return NULL;
  for (size_t i = 0; i < object->n; i++)
    if (strcmp(object->keys[i], key) == 0) return object->items[i];
  return NULL;
}

jv *jv_take(jv *object, const char *key) {
  if (!object || object->t != JOBJ) return NULL;
  for (size_t i = 0; i < object->n; i++) {
    if (strcmp(object->keys[i], key) != 0) continue;
    jv *value = object->items[i];
    free(object->keys[i]);
    memmove(object->keys + i, object->keys + i + 1, (object->n - i - 1) * sizeof *object->keys);
    memmove(object->items + i, object->items + i + 1, (object->n - i - 1) * sizeof *object->items);
    object->n--;
    return value;
  }
  return NULL;
}

void jv_free(jv *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) {
    jv_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->s);
  free(v);
}

bool jv_int_of(const jv *v, int64_t *out) {
  if (!v) return false;
  if (v->t == JINT) { *out = v->i; return true; }
  if (v->t == JDBL && round(v->d) == v->d && fabs(v->d) < 9e18) { *out = (int64_t)v->d; return true; }
  return false;
}

const char *jv_str_of(const jv *v) { return v && v->t == JSTR ? v->s : NULL; }

bool jv_bool_of(const jv *v, bool *out) {
  if (!v || v->t != JBOOL) return false;
  *out = v->b;
  return true;
}

/* ---- parser ---- */

typedef struct {
  const char *p, *end;
  int depth;
} reader;

static void skip_space(reader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static void put_utf8(sbuf *b, unsigned code) {
  char out[4];
  size_t n;
  if (code < 0x80) { out[0] = (char)code; n = 1; }
  else if (code < 0x800) { out[0] = (char)(0xC0 | code >> 6); out[1] = (char)(0x80 | (code & 0x3F)); n = 2; }
  else if (code < 0x10000) {
    out[0] = (char)(0xE0 | code >> 12); out[1] = (char)(0x80 | ((code >> 6) & 0x3F));
    out[2] = (char)(0x80 | (code & 0x3F)); n = 3;
  } else {
    out[0] = (char)(0xF0 | code >> 18); out[1] = (char)(0x80 | ((code >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((code >> 6) & 0x3F)); out[3] = (char)(0x80 | (code & 0x3F)); n = 4;
  }
  sb_addn(b, out, n);
}

static bool hex4(reader *r, unsigned *out) {
  if (r->end - r->p < 4) return false;
  unsigned value = 0;
  for (int i = 0; i < 4; i++) {
    char c = r->p[i];
    value <<= 4;
    if (c >= '0' && c <= '9') value |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') value |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') value |= (unsigned)(c - 'A' + 10);
    else return false;
  }
  r->p += 4;
  *out = value;
  return true;
}

static char *parse_string(reader *r) {
  if (r->p >= r->end || *r->p != '"') return NULL;
  r->p++;
  sbuf b = {0};
  while (r->p < r->end) {
    unsigned char c = (unsigned char)*r->p++;
    if (c == '"') return sb_take(&b);
    if (c < 0x20) break;
    if (c != '\\') { sb_addn(&b, (const char *)&c, 1); continue; }
    if (r->p >= r->end) break;
    char e = *r->p++;
    unsigned code;
    switch (e) {
    case '"': sb_add(&b, "\""); break;
    case '\\': sb_add(&b, "\\"); break;
    case '/': sb_add(&b, "/"); break;
    case 'b': sb_add(&b, "\b"); break;
    case 'f': sb_add(&b, "\f"); break;
    case 'n': sb_add(&b, "\n"); break;
    case 'r': sb_add(&b, "\r"); break;
    case 't': sb_add(&b, "\t"); break;
    case 'u':
      if (!hex4(r, &code)) goto bad;
      if (code >= 0xD800 && code < 0xDC00) {
        unsigned low;
        if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') goto bad;
        r->p += 2;
        if (!hex4(r, &low) || low < 0xDC00 || low > 0xDFFF) goto bad;
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
      } else if (code >= 0xDC00 && code < 0xE000) {
        goto bad;
      }
      put_utf8(&b, code);
      break;
    default: goto bad;
    }
  }
bad:
  free(sb_take(&b));
  return NULL;
}

static jv *parse_value(reader *r);

static jv *parse_number(reader *r) {
  const char *start = r->p;
  bool integral = true;
  if (r->p < r->end && *r->p == '-') r->p++;
  if (r->p >= r->end || *r->p < '0' || *r->p > '9') return NULL;
  if (*r->p == '0') r->p++;
  else while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
  if (r->p < r->end && *r->p == '.') {
    integral = false;
    r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9') return NULL;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
  }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
    integral = false;
    r->p++;
    if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9') return NULL;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
  }
  char text[64];
  size_t length = (size_t)(r->p - start);
  if (length >= sizeof text) {
    integral = false;
    length = sizeof text - 1;
  }
  memcpy(text, start, length);
  text[length] = 0;
  if (integral) {
    int64_t value;
    if (parse_int(text, &value)) return jv_int(value);
  }
  double d = strtod(text, NULL);
  /* An integral value in a fraction or exponent form is an integer, as JSONDecoder reads it. */
  if (round(d) == d && fabs(d) < 9.2e18) return jv_int((int64_t)d);
  return jv_dbl(d);
}

static bool literal(reader *r, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return false;
  r->p += n;
  return true;
}

static jv *parse_value(reader *r) {
  skip_space(r);
  if (r->p >= r->end || ++r->depth > 512) return NULL;
  jv *result = NULL;
  char c = *r->p;
  if (c == '{') {
    r->p++;
    result = jv_obj();
    skip_space(r);
    if (r->p < r->end && *r->p == '}') { r->p++; goto done; }
    for (;;) {
      skip_space(r);
      char *key = parse_string(r);
      if (!key) goto bad;
      skip_space(r);
      if (r->p >= r->end || *r->p != ':') { free(key); goto bad; }
      r->p++;
      jv *value = parse_value(r);
      if (!value) { free(key); goto bad; }
      if (jv_get(result, key)) jv_free(value); /* a repeated key: the first one counts, as in JSONDecoder */
      else jv_set(result, key, value);
      free(key);
      skip_space(r);
      if (r->p < r->end && *r->p == ',') { r->p++; continue; }
      if (r->p < r->end && *r->p == '}') { r->p++; goto done; }
      goto bad;
    }
  } else if (c == '[') {
    r->p++;
    result = jv_arr();
    skip_space(r);
    if (r->p < r->end && *r->p == ']') { r->p++; goto done; }
    for (;;) {
      jv *value = parse_value(r);
      if (!value) goto bad;
      jv_push(result, value);
      skip_space(r);
      if (r->p < r->end && *r->p == ',') { r->p++; continue; }
      if (r->p < r->end && *r->p == ']') { r->p++; goto done; }
      goto bad;
    }
  } else if (c == '"') {
    char *s = parse_string(r);
    if (!s) return NULL;
    result = make(JSTR);
    result->s = s;
  } else if (literal(r, "true")) {
    result = jv_bool(true);
  } else if (literal(r, "false")) {
    result = jv_bool(false);
  } else if (literal(r, "null")) {
    result = jv_null();
  } else {
    result = parse_number(r);
  }
done:
  r->depth--;
  return result;
bad:
  jv_free(result);
  return NULL;
}

jv *jv_parse(const char *text, size_t length) {
  reader r = {text, text + length, 0};
  jv *value = parse_value(&r);
  if (!value) return NULL;
  skip_space(&r);
  if (r.p != r.end) {
    jv_free(value);
    return NULL;
  }
  return value;
}

/* ---- writer ---- */

static void write_string(sbuf *b, const char *s) {
  sb_add(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': sb_add(b, "\\\""); break;
    case '\\': sb_add(b, "\\\\"); break;
    case '\n': sb_add(b, "\\n"); break;
    case '\r': sb_add(b, "\\r"); break;
    case '\t': sb_add(b, "\\t"); break;
    default:
      if (*p < 0x20) sb_addf(b, "\\u%04x", *p);
      else sb_addn(b, (const char *)p, 1);
    }
  }
  sb_add(b, "\"");
}

/* The shortest text that reads back as `d` (Swift's description of a Double). */
static void write_double(sbuf *b, double d) {
  if (!isfinite(d)) { sb_add(b, "null"); return; }
  if (round(d) == d && fabs(d) < 1e15) { sb_addf(b, "%lld", (long long)d); return; }
  char text[40];
  for (int precision = 1; precision <= 17; precision++) {
    snprintf(text, sizeof text, "%.*g", precision, d);
    if (strtod(text, NULL) == d) break;
  }
  sb_add(b, text);
}

static int compare_keys(const void *a, const void *b, void *object) {
  const jv *o = object;
  return strcmp(o->keys[*(const size_t *)a], o->keys[*(const size_t *)b]);
}

static void write_value(sbuf *b, const jv *v) {
  switch (v->t) {
  case JNULL: sb_add(b, "null"); break;
  case JBOOL: sb_add(b, v->b ? "true" : "false"); break;
  case JINT: sb_addf(b, "%lld", (long long)v->i); break;
  case JDBL: write_double(b, v->d); break;
  case JSTR: write_string(b, v->s); break;
  case JARR:
    sb_add(b, "[");
    for (size_t i = 0; i < v->n; i++) {
      if (i) sb_add(b, ",");
      write_value(b, v->items[i]);
    }
    sb_add(b, "]");
    break;
  case JOBJ: {
    size_t *order = xrealloc(NULL, (v->n + 1) * sizeof *order);
    for (size_t i = 0; i < v->n; i++) order[i] = i;
    qsort_r(order, v->n, sizeof *order, compare_keys, (void *)v);
    sb_add(b, "{");
    for (size_t i = 0; i < v->n; i++) {
      if (i) sb_add(b, ",");
      write_string(b, v->keys[order[i]]);
      sb_add(b, ":");
      write_value(b, v->items[order[i]]);
    }
    sb_add(b, "}");
    free(order);
    break;
  }
  }
}

char *jv_dump(const jv *v) {
  sbuf b = {0};
  write_value(&b, v);
  return sb_take(&b);
}
