/*
 * pvbench portable agent: latency histograms with the Swift agent's buckets.
 *
 * The Swift side records into hdrhistogram-swift's Histogram<UInt64> with three
 * significant digits, lowest discernible value 1 and auto-resize
 * (Sources/Workloads/LatencyHistogram.swift). This is the same bucket scheme,
 * written out: 2048 unit sub-buckets below 2048, then per power of two the upper
 * 1024 sub-buckets, each of width 2^k. A bucket is reported as the highest value
 * it holds (hdrhistogram's `recordedValues()`), so the `[[value, count], …]` of
 * the two agents are identical for the same samples.
 *
 * Also here: the small growable text buffer the workloads build their JSON
 * events in.
 */
#ifndef PVBENCH_AGENT_HDR_H
#define PVBENCH_AGENT_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gcc has no nullability qualifiers; they document the pointers for clang only. */
#if !defined(__clang__) && !defined(_Nonnull)
#define _Nonnull
#define _Nullable
#endif

/// A latency histogram in nanoseconds. Zero-initialised is not valid: use
/// pva_hdr_init.
struct pva_hdr {
  uint64_t *_Nullable counts; /* NULL only after an allocation failure */
  size_t length;              /* entries in counts */
  uint64_t total;
  uint64_t min;               /* smallest recorded value; UINT64_MAX when empty */
  uint64_t max;               /* largest recorded value; 0 when empty */
};

/// Sets up an empty histogram (the Swift one's initial size: 2048 entries).
/// Returns false when the memory could not be had.
bool pva_hdr_init(struct pva_hdr *_Nonnull hdr);

/// Frees the histogram's memory; it may be initialised again.
void pva_hdr_free(struct pva_hdr *_Nonnull hdr);

/// Records `count` samples of `nanoseconds` (0 counts as 1, as on the Swift side),
/// growing the histogram when needed. Returns false when growing failed.
bool pva_hdr_record(struct pva_hdr *_Nonnull hdr, uint64_t nanoseconds, uint64_t count);

/// Adds every sample of `other` to `hdr`. Returns false when growing failed.
bool pva_hdr_merge(struct pva_hdr *_Nonnull hdr, const struct pva_hdr *_Nonnull other);

/// Removes every sample (keeps the memory).
void pva_hdr_reset(struct pva_hdr *_Nonnull hdr);

/// The index of the bucket `value` falls in.
size_t pva_hdr_index(uint64_t value);

/// The value reported for bucket `index`: the highest value it holds.
uint64_t pva_hdr_bucket_value(size_t index);

/// hdrhistogram's `valueAtPercentile` (0–100), or 0 when empty.
uint64_t pva_hdr_percentile(const struct pva_hdr *_Nonnull hdr, double percentile);

/// A growable, NUL-terminated text; `failed` is set (and the text kept as it
/// was) when memory ran out.
struct pva_text {
  char *_Nullable data;
  size_t length;
  size_t capacity;
  bool failed;
};

/// Appends printf-style text.
void pva_text_printf(struct pva_text *_Nonnull text, const char *_Nonnull format, ...)
    __attribute__((format(printf, 2, 3)));

/// Appends a JSON number for `value` that reads back as the same double (an
/// integral value as an integer, as the Swift agent writes it; null when not finite).
void pva_text_double(struct pva_text *_Nonnull text, double value);

/// Appends a JSON string literal.
void pva_text_string(struct pva_text *_Nonnull text, const char *_Nonnull value);

/// Frees the text's memory.
void pva_text_free(struct pva_text *_Nonnull text);

/// Appends the histogram as `[[value,count],…]` over its non-empty buckets, ascending.
void pva_hdr_append_json(const struct pva_hdr *_Nonnull hdr, struct pva_text *_Nonnull text);

#endif
