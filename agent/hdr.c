/*
 * pvbench portable agent: the HDR bucket scheme of hdrhistogram-swift with three
 * significant digits (see hdr.h), and the text buffer of the JSON events.
 *
 * Three digits need unit resolution up to 2 × 10^3, so a bucket group has 2^11 =
 * 2048 sub-buckets; group k ≥ 1 covers [2^(10+k), 2^(11+k)) with its upper 1024
 * sub-buckets of width 2^k (its lower half is covered by the groups below). The
 * counts array holds group 0 whole and then 1024 entries per further group, so the
 * index of a value in group k, sub-bucket s, is (k + 1) × 1024 + s − 1024.
 */
#include "hdr.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  SUB_BUCKET_COUNT_MAGNITUDE = 11,
  SUB_BUCKET_HALF_COUNT_MAGNITUDE = 10,
  SUB_BUCKET_COUNT = 1 << SUB_BUCKET_COUNT_MAGNITUDE,
  SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE,
  /* 64 − unit magnitude (0) − sub-bucket count magnitude */
  LEADING_ZERO_COUNT_BASE = 64 - SUB_BUCKET_COUNT_MAGNITUDE,
};

static const uint64_t SUB_BUCKET_MASK = SUB_BUCKET_COUNT - 1;

static int bucket_of(uint64_t value) {
  return LEADING_ZERO_COUNT_BASE - __builtin_clzll(value | SUB_BUCKET_MASK);
}

size_t pva_hdr_index(uint64_t value) {
  int bucket = bucket_of(value);
  size_t sub = (size_t)(value >> bucket);
  return ((size_t)(bucket + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub - SUB_BUCKET_HALF_COUNT;
}

uint64_t pva_hdr_bucket_value(size_t index) {
  long bucket = (long)(index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
  uint64_t sub = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
  if (bucket < 0) {
    sub -= SUB_BUCKET_HALF_COUNT;
    bucket = 0;
  }
  /* The lowest value of the bucket plus its width, less one (wrapping at the top,
   * where the Swift side would trap; no latency gets there). */
  return ((sub + 1) << bucket) - 1;
}

/* The counts needed to index `value`: hdrhistogram's bucketsNeededToCoverValue plus the
 * lower half of group 0. */
static size_t length_for(uint64_t value) {
  uint64_t smallest_untrackable = SUB_BUCKET_COUNT;
  size_t buckets = 1;
  while (smallest_untrackable <= value) {
    if (smallest_untrackable > UINT64_MAX / 2) {
      buckets += 1;
      break;
    }
    smallest_untrackable <<= 1;
    buckets += 1;
  }
  return (buckets + 1) * SUB_BUCKET_HALF_COUNT;
}

static bool grow(struct pva_hdr *hdr, uint64_t value) {
  size_t length = length_for(value);
  if (length <= hdr->length) return true;
  uint64_t *counts = realloc(hdr->counts, length * sizeof *counts);
  if (counts == NULL) return false;
  memset(counts + hdr->length, 0, (length - hdr->length) * sizeof *counts);
  hdr->counts = counts;
  hdr->length = length;
  return true;
}

bool pva_hdr_init(struct pva_hdr *hdr) {
  /* The Swift histogram starts with a highest trackable value of 2: one group. */
  hdr->length = 2 * SUB_BUCKET_HALF_COUNT;
  hdr->counts = calloc(hdr->length, sizeof *hdr->counts);
  hdr->total = 0;
  hdr->min = UINT64_MAX;
  hdr->max = 0;
  if (hdr->counts == NULL) hdr->length = 0;
  return hdr->counts != NULL;
}

void pva_hdr_free(struct pva_hdr *hdr) {
  free(hdr->counts);
  hdr->counts = NULL;
  hdr->length = 0;
  hdr->total = 0;
}

bool pva_hdr_record(struct pva_hdr *hdr, uint64_t nanoseconds, uint64_t count) {
  if (count == 0) return true;
  uint64_t value = nanoseconds == 0 ? 1 : nanoseconds;
  size_t index = pva_hdr_index(value);
  if (index >= hdr->length && !grow(hdr, value)) return false;
  hdr->counts[index] += count;
  hdr->total += count;
  if (value < hdr->min) hdr->min = value;
  if (value > hdr->max) hdr->max = value;
  return true;
}

bool pva_hdr_merge(struct pva_hdr *hdr, const struct pva_hdr *other) {
  if (other->total == 0) return true;
  if (pva_hdr_index(other->max) >= hdr->length && !grow(hdr, other->max)) return false;
  size_t length = other->length < hdr->length ? other->length : hdr->length;
  for (size_t i = 0; i < length; i++) hdr->counts[i] += other->counts[i];
  hdr->total += other->total;
  if (other->min < hdr->min) hdr->min = other->min;
  if (other->max > hdr->max) hdr->max = other->max;
  return true;
}

void pva_hdr_reset(struct pva_hdr *hdr) {
  if (hdr->counts != NULL) memset(hdr->counts, 0, hdr->length * sizeof *hdr->counts);
  hdr->total = 0;
  hdr->min = UINT64_MAX;
  hdr->max = 0;
}

uint64_t pva_hdr_percentile(const struct pva_hdr *hdr, double percentile) {
  if (hdr->total == 0) return 0;
  /* Recorded values are never 0, so hdrhistogram's `min` is the smallest value. */
  uint64_t min = hdr->min;
  if (percentile == 0.0) return min;
  if (percentile >= 100.0) return hdr->max;
  /* One ulp less (hdrhistogram's `nextDown`), so rounding cannot overrun a bucket. */
  double requested = percentile;
  if (requested > 0) {
    uint64_t bits;
    memcpy(&bits, &requested, sizeof bits);
    bits -= 1;
    memcpy(&requested, &bits, sizeof bits);
  } else {
    requested = 0;
  }
  double at = requested * (double)hdr->total / 100.0;
  uint64_t wanted = (uint64_t)at;
  if ((double)wanted < at) wanted += 1; /* rounded up */
  if (wanted < 1) wanted = 1;
  uint64_t sum = 0;
  for (size_t i = 0; i < hdr->length; i++) {
    sum += hdr->counts[i];
    if (sum >= wanted) {
      uint64_t value = pva_hdr_bucket_value(i);
      if (value > hdr->max) value = hdr->max;
      return value < min ? min : value;
    }
  }
  return 0;
}

void pva_hdr_append_json(const struct pva_hdr *hdr, struct pva_text *text) {
  pva_text_printf(text, "[");
  bool first = true;
  uint64_t seen = 0;
  for (size_t i = 0; i < hdr->length && seen < hdr->total; i++) {
    uint64_t count = hdr->counts[i];
    if (count == 0) continue;
    seen += count;
    pva_text_printf(text, "%s[%llu,%llu]", first ? "" : ",",
                    (unsigned long long)pva_hdr_bucket_value(i), (unsigned long long)count);
    first = false;
  }
  pva_text_printf(text, "]");
}

/* ---- text ---- */

static bool reserve(struct pva_text *text, size_t more) {
  if (text->failed) return false;
  size_t needed = text->length + more + 1;
  if (needed <= text->capacity) return true;
  size_t capacity = text->capacity < 256 ? 256 : text->capacity;
  while (capacity < needed) capacity *= 2;
  char *data = realloc(text->data, capacity);
  if (data == NULL) {
    text->failed = true;
    return false;
  }
  text->data = data;
  text->capacity = capacity;
  return true;
}

void pva_text_printf(struct pva_text *text, const char *format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  int size = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  if (size >= 0 && reserve(text, (size_t)size)) {
    vsnprintf(text->data + text->length, (size_t)size + 1, format, args);
    text->length += (size_t)size;
  }
  va_end(args);
}

void pva_text_double(struct pva_text *text, double value) {
  if (!isfinite(value)) {
    pva_text_printf(text, "null");
    return;
  }
  if (value > -1e15 && value < 1e15 && value == (double)(long long)value) {
    pva_text_printf(text, "%lld", (long long)value);
    return;
  }
  /* The shortest form that reads back as the same double, as Swift prints it. */
  char buffer[40];
  for (int digits = 1; digits <= 17; digits++) {
    snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    if (strtod(buffer, NULL) == value) break;
  }
  pva_text_printf(text, "%s", buffer);
}

void pva_text_string(struct pva_text *text, const char *value) {
  pva_text_printf(text, "\"");
  for (const unsigned char *c = (const unsigned char *)value; *c != 0; c++) {
    if (*c == '"' || *c == '\\') {
      pva_text_printf(text, "\\%c", *c);
    } else if (*c == '\n') {
      pva_text_printf(text, "\\n");
    } else if (*c < 0x20) {
      pva_text_printf(text, "\\u%04x", *c);
    } else {
      pva_text_printf(text, "%c", *c);
    }
  }
  pva_text_printf(text, "\"");
}

void pva_text_free(struct pva_text *text) {
  free(text->data);
  text->data = NULL;
  text->length = 0;
  text->capacity = 0;
  text->failed = false;
}
