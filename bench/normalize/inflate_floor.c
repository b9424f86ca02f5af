/* The inflate floor of the pv-normalize benchmark: inflates a gzip file with zlib on one thread and does nothing else
 * (the output is discarded), as pv's ByteSource does it (inflateInit2 with gzip framing, concatenated members, 1 MiB
 * input and 4 MiB output buffers). pv-normalize can go no faster than this on one gzip stream.
 * usage: inflate_floor FILE.gz      prints "inflate_floor BYTES_IN BYTES_OUT SECONDS" on stdout */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: inflate_floor FILE.gz\n"); return 64; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 66; }
    static unsigned char in[1 << 20], out[1 << 22];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) { fprintf(stderr, "inflate_floor: zlib init failed\n"); return 70; }
    unsigned long long nin = 0, nout = 0;
    int rc = Z_OK, eof = 0;
    while (!eof || zs.avail_in > 0) {
        if (zs.avail_in == 0) {
            size_t n = fread(in, 1, sizeof in, f);
            if (n == 0) { eof = 1; break; }
            nin += n; zs.next_in = in; zs.avail_in = (uInt)n;
        }
        zs.next_out = out; zs.avail_out = sizeof out;
        rc = inflate(&zs, Z_NO_FLUSH);
        nout += sizeof out - zs.avail_out;
        if (rc == Z_STREAM_END) {                 /* next member of a concatenated gzip file, if any */
            if (zs.avail_in == 0) {
                size_t n = fread(in, 1, sizeof in, f);
                if (n == 0) break;
                nin += n; zs.next_in = in; zs.avail_in = (uInt)n;
            }
            inflateReset(&zs);
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            fprintf(stderr, "inflate_floor: corrupt gzip stream (%d)\n", rc); return 65;
        }
    }
    inflateEnd(&zs);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("inflate_floor %llu %llu %.3f\n", nin, nout, (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));
    return 0;
}
