#ifndef PVBENCH_GNUPLOT_H
#define PVBENCH_GNUPLOT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A gnuplot session through gnuplot-iostream, writing to a pipe gnuplot reads.
///
/// The type is opaque: no Boost or C++ type crosses this interface. Every function
/// catches what gnuplot-iostream throws and reports it as a return value.
typedef struct pvb_gnuplot pvb_gnuplot;

/// Opens a session that writes to `fd` (gnuplot's standard input).
///
/// The session writes through a duplicate of `fd`; the caller keeps `fd` and closes it
/// after `pvb_gnuplot_close`. Returns NULL (errno set) when the stream cannot be opened.
pvb_gnuplot *_Nullable pvb_gnuplot_open(int fd);

/// Sends `text` (gnuplot commands, each ending in a newline) as it is.
///
/// Returns 0, or -1 when the stream failed (gnuplot exited: its status says why).
int pvb_gnuplot_command(pvb_gnuplot *_Nonnull session, const char *_Nonnull text);

/// Sends `rows` rows of `columns` numbers as one inline data block (a `'-'` file of the
/// last `plot` command), ending it with `e` as gnuplot-iostream's `send1d` does.
///
/// `values` holds the rows one after another. Returns 0, or -1 when the stream failed.
int pvb_gnuplot_send_rows(
    pvb_gnuplot *_Nonnull session, const double *_Nonnull values, size_t rows, size_t columns);

/// Flushes and ends the session; gnuplot sees end of file once the caller closes `fd`.
/// Returns 0, or -1 when the last flush failed.
int pvb_gnuplot_close(pvb_gnuplot *_Nonnull session);

#ifdef __cplusplus
}
#endif

#endif
