/* Writes a random 10x count matrix (genes x cells, coordinate integer, sorted by cell) to stdout.
 * usage: gen_mtx CELLS GENES DENSITY SEED
 * Gene g is detected with probability p_g (mean DENSITY, spread 0.1x..1.9x) and then has a geometric count whose mean
 * varies by gene, so that genes differ in mean and dispersion as real data do. Two passes with one seed: the first
 * counts the nonzeros for the size line, the second writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

static uint64_t s[4];
static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t next(void) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return r;
}
static void seed(uint64_t x) { for (int i = 0; i < 4; i++) { x += 0x9e3779b97f4a7c15ULL; uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL; z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL; s[i] = z ^ (z >> 31); } }

static char out[1 << 22];
static size_t pos = 0;
static inline void flush(void) { fwrite(out, 1, pos, stdout); pos = 0; }
static inline void put_u(uint64_t v) {
    char t[24]; int n = 0;
    do { t[n++] = '0' + v % 10; v /= 10; } while (v);
    while (n) out[pos++] = t[--n];
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: gen_mtx CELLS GENES DENSITY SEED\n"); return 64; }
    long cells = atol(argv[1]), genes = atol(argv[2]);
    double density = atof(argv[3]);
    uint64_t sd = strtoull(argv[4], 0, 10);
    uint32_t *thr = malloc(genes * sizeof *thr);   /* detection threshold on 32 random bits */
    double *geo = malloc(genes * sizeof *geo);     /* log(1 - q) of the geometric count */
    seed(sd);
    for (long g = 0; g < genes; g++) {
        double p = density * (0.1 + 1.8 * (next() >> 11) * 0x1.0p-53);
        if (p > 1) p = 1;
        thr[g] = (uint32_t)(p * 4294967295.0);
        double mean = 1.0 + 6.0 * pow((next() >> 11) * 0x1.0p-53, 3);  /* mean count when detected */
        geo[g] = log(1.0 - 1.0 / mean + 1e-12);
    }
    uint64_t nnz = 0;
    for (int pass = 0; pass < 2; pass++) {
        seed(sd + 1);
        if (pass == 1) printf("%%%%MatrixMarket matrix coordinate integer general\n%% pv bench\n%ld %ld %llu\n",
                              genes, cells, (unsigned long long)nnz);
        for (long c = 0; c < cells; c++) {
            for (long g = 0; g < genes; g++) {
                uint64_t r = next();
                if ((uint32_t)r >= thr[g]) continue;
                if (pass == 0) { nnz++; continue; }
                double u = ((r >> 32) + 0.5) * 0x1.0p-32;
                uint64_t v = 1 + (uint64_t)(log(u) / geo[g]);
                put_u(g + 1); out[pos++] = ' '; put_u(c + 1); out[pos++] = ' '; put_u(v); out[pos++] = '\n';
                if (pos > sizeof out - 100) flush();
            }
        }
    }
    flush();
    return 0;
}
