// The C face of gnuplot-iostream (Debian libgnuplot-iostream-dev) for pvbench's Swift
// code: plots and the live view go through it, and no Boost type leaves this file.
#include "pvbench_gnuplot.h"

#include <gnuplot-iostream.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <unistd.h>
#include <vector>

struct pvb_gnuplot {
  Gnuplot stream;
  explicit pvb_gnuplot(std::FILE *file) : stream(file) {}
};

pvb_gnuplot *pvb_gnuplot_open(int fd) {
  int copy = dup(fd);
  if (copy < 0) return nullptr;
  std::FILE *file = fdopen(copy, "w");
  if (file == nullptr) {
    int saved = errno;
    close(copy);
    errno = saved;
    return nullptr;
  }
  try {
    // Gnuplot(FILE *) closes the file with fclose when it ends, never pclose: the
    // process is the caller's.
    return new pvb_gnuplot(file);
  } catch (...) {
    std::fclose(file);
    errno = EIO;
    return nullptr;
  }
}

int pvb_gnuplot_command(pvb_gnuplot *session, const char *text) {
  try {
    session->stream << text;
    session->stream.flush();
    return session->stream.good() ? 0 : -1;
  } catch (...) {
    return -1;
  }
}

int pvb_gnuplot_send_rows(
    pvb_gnuplot *session, const double *values, size_t rows, size_t columns) {
  try {
    std::vector<std::vector<double>> block(rows, std::vector<double>(columns));
    for (size_t row = 0; row < rows; ++row) {
      for (size_t column = 0; column < columns; ++column) {
        block[row][column] = values[row * columns + column];
      }
    }
    session->stream.send1d(block);
    session->stream.flush();
    return session->stream.good() ? 0 : -1;
  } catch (...) {
    return -1;
  }
}

int pvb_gnuplot_close(pvb_gnuplot *session) {
  int result = 0;
  try {
    session->stream.flush();
    if (!session->stream.good()) result = -1;
  } catch (...) {
    result = -1;
  }
  try {
    delete session;
  } catch (...) {
    result = -1;
  }
  return result;
}
