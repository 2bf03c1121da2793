/** @file file_write.c
 * See file_write.h. Why mkstemp and not "<path>.tmp": a fixed temporary name is a file anyone
 * who can write the directory may plant beforehand, as a symlink to a file of ours; fopen()
 * would follow it and overwrite its target. mkstemp() creates a new name with O_EXCL.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_write.h"
#include "xalloc.h"

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int file_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    size_t tl = strlen(path) + sizeof ".XXXXXX";
    char *tmp = xmalloc(tl);
    snprintf(tmp, tl, "%s.XXXXXX", path);
    int fd = mkstemp(tmp); /* mode 0600 */
    const char *step = "create a temporary file beside it";
    if (fd >= 0) {
        step = write_all(fd, data, len) ? "write" : fsync(fd) ? "flush" : NULL;
        if (close(fd) && !step) {
            step = "close";
        }
        if (!step && rename(tmp, path)) {
            step = "rename the temporary file over it";
        }
        if (step) {
            int e = errno;
            unlink(tmp);
            errno = e;
        }
    }
    if (step) {
        snprintf(err, errlen, "cannot %s: %s", step, strerror(errno));
    }
    free(tmp);
    return step ? -1 : 0;
}
