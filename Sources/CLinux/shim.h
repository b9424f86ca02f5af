// Linux calls that Swift's Glibc module does not expose (they need _GNU_SOURCE). Header-only, no library.
#ifndef PV_CLINUX_SHIM_H
#define PV_CLINUX_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>

/// Starts writing back the dirty pages of fd in [offset, offset + length) without waiting for them, so that a
/// later fsync finds little left. Returns 0, or -1 with errno set; 0 and does nothing where the call is missing.
static inline int pv_start_writeback(int fd, long long offset, long long length) {
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}
#endif
