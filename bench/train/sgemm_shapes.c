/* OpenBLAS sgemm rate for the exact products of one PerturbedVAE training step (pv's Linear.forward/backward,
 * row-major, same transposes and leading dimensions as the Swift files in Sources/PVShared/Model).
 *
 *   gcc -O2 -o sgemm_shapes sgemm_shapes.c -lopenblas
 *   ./sgemm_shapes [--genes 5000] [--targets 100] [--hidden 256] [--latent-inv 85] [--latent-resp 20]
 *                  [--batch 64] [--labels U] [--threads 2] [--seconds 0.3] [--json]
 *                  [--decoder mlp|additive] [--u-compose mlp|additive] [--node-hidden 16]
 *
 * Every product is timed on its own (best of repeated runs lasting about --seconds), then the step's products are
 * summed: "step" = total FLOP / total time is the rate pv could reach if it did nothing but these sgemm calls.
 * Also times a large square sgemm (1024^3) as the machine's sgemm peak for reference.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern void openblas_set_num_threads(int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct {
    char name[48];
    int ta, tb, m, n, k, lda, ldb, ldc;
    float beta;
    int calls; /* how many times one step makes this call (per-row products) */
} Shape;

static Shape shapes[128];
static int nshapes = 0;

static void add(const char *name, int ta, int tb, int m, int n, int k, int lda, int ldb, int ldc, float beta, int calls) {
    Shape *s = &shapes[nshapes++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->ta = ta; s->tb = tb; s->m = m; s->n = n; s->k = k; s->lda = lda; s->ldb = ldb; s->ldc = ldc;
    s->beta = beta; s->calls = calls;
}

/* One Linear layer nIn -> nOut over `rows` rows (pv's Linear): forward y = x·W (+b), backward dW += xᵀ·dy and,
 * when wanted, dx = dy·Wᵀ. ldx/ldy are the leading dimensions pv uses for x and y. */
static void linear(const char *name, int rows, int nIn, int nOut, int ldx, int ldy, int want_dx) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s fwd", name);
    add(buf, 0, 0, rows, nOut, nIn, ldx, nOut, ldy, 1.0f, 1);
    snprintf(buf, sizeof buf, "%s dW", name);
    add(buf, 1, 0, nIn, nOut, rows, ldx, ldy, nOut, 1.0f, 1);
    if (want_dx) {
        snprintf(buf, sizeof buf, "%s dX", name);
        add(buf, 0, 1, rows, nIn, nOut, ldy, nOut, ldx, 0.0f, 1);
    }
}

static double time_shape(const Shape *s, float *A, float *B, float *C, double seconds) {
    /* returns best seconds per call */
    CBLAS_TRANSPOSE ta = s->ta ? CblasTrans : CblasNoTrans, tb = s->tb ? CblasTrans : CblasNoTrans;
    for (int w = 0; w < 2; w++)
        cblas_sgemm(CblasRowMajor, ta, tb, s->m, s->n, s->k, 1.0f, A, s->lda, B, s->ldb, s->beta, C, s->ldc);
    double best = 1e30, start = now();
    int reps = 0;
    while (reps < 5 || (now() - start < seconds && reps < 100000)) {
        int inner = 1;
        double flop = 2.0 * s->m * s->n * s->k;
        if (flop < 2e6) inner = 64; /* tiny products: time a bunch of calls together */
        double t0 = now();
        for (int i = 0; i < inner; i++)
            cblas_sgemm(CblasRowMajor, ta, tb, s->m, s->n, s->k, 1.0f, A, s->lda, B, s->ldb, s->beta, C, s->ldc);
        double dt = (now() - t0) / inner;
        if (dt < best) best = dt;
        reps++;
    }
    return best;
}

int main(int argc, char **argv) {
    int G = 5000, K = 100, H = 256, dI = 85, dN = 20, Bt = 64, U = -1, threads = 2, json = 0;
    int additive_dec = 0, additive_u = 0, S = 16;
    double seconds = 0.3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--genes")) G = atoi(v), i++;
        else if (!strcmp(a, "--targets")) K = atoi(v), i++;
        else if (!strcmp(a, "--hidden")) H = atoi(v), i++;
        else if (!strcmp(a, "--latent-inv")) dI = atoi(v), i++;
        else if (!strcmp(a, "--latent-resp")) dN = atoi(v), i++;
        else if (!strcmp(a, "--batch")) Bt = atoi(v), i++;
        else if (!strcmp(a, "--labels")) U = atoi(v), i++;
        else if (!strcmp(a, "--threads")) threads = atoi(v), i++;
        else if (!strcmp(a, "--seconds")) seconds = atof(v), i++;
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--decoder")) additive_dec = !strcmp(v, "additive"), i++;
        else if (!strcmp(a, "--u-compose")) additive_u = !strcmp(v, "additive"), i++;
        else if (!strcmp(a, "--node-hidden")) S = atoi(v), i++;
        else { fprintf(stderr, "sgemm_shapes: unknown option %s\n", a); return 64; }
    }
    int R = 2 * Bt;           /* perturbed rows stacked over their control partners */
    if (U < 0) U = Bt + 1;    /* distinct labels in a batch (u-networks run once per distinct label) */
    int nL = dN * (dN - 1) / 2, ldhu = H + K, ldz = dN + dI;
    openblas_set_num_threads(threads);

    /* forward and backward products of one step, as pv's PerturbedVAE calls them */
    add("enc1 fwd", 0, 0, R, H, G, G, H, H, 1.0f, 1);
    add("enc1 dW", 1, 0, G, H, R, G, H, H, 1.0f, 1);            /* no dX: x is data */
    linear("enc2", R, H, H, H, ldhu, 1);
    linear("inv", R, H, 2 * dI, ldhu, 2 * dI, 1);
    linear("resp1", R, H + K, H, ldhu, H, 1);
    linear("resp2", R, H, 2 * dN, H, 2 * dN, 1);
    if (!additive_u) {
        add("utrunk fwd", 0, 0, U, H, K, K, H, H, 1.0f, 1);
        add("utrunk dW", 1, 0, K, H, U, K, H, H, 1.0f, 1);
    }
    /* u-networks' heads read the trunk's output (width H, with dX) or, additive, the label itself (width K, no dX) */
    int uIn = additive_u ? K : H;
    linear("ulnn", U, uIn, nL, uIn, nL, !additive_u);
    linear("ulni", U, uIn, dN * dI, uIn, dN * dI, !additive_u);
    linear("umu", U, uIn, dN, uIn, dN, !additive_u);
    linear("ulogbeta", U, uIn, dN, uIn, dN, !additive_u);
    add("lni·z_i per row (n=1)", 0, 0, dN, 1, dI, dI, 1, 1, 1.0f, R);
    add("dlni += dc⊗z_i (per row)", 0, 0, dN, dI, 1, 1, dI, dI, 1.0f, R);
    add("dz_i += lniᵀdc per row (n=1)", 1, 0, dI, 1, dN, dI, 1, 1, 1.0f, R);
    if (!additive_dec) {
        linear("dec1", R, dN + dI, H, ldz, H, 1);
        linear("dec2", R, H, H, H, H, 1);
        linear("dec3", R, H, G, H, G, 1);
    } else {
        /* f_ι on z_ι, then the d_ν node networks' hidden layers side by side times decN2.W [d_ν·S, G] */
        linear("decI1", R, dI, H, ldz, H, 1);
        linear("decI2", R, H, H, H, H, 1);
        linear("decI3", R, H, G, H, G, 1);
        add("decN2 fwd", 0, 0, R, G, dN * S, dN * S, G, G, 1.0f, 1);
        add("decN2 dW", 1, 0, dN * S, G, R, dN * S, G, G, 1.0f, 1);
        add("decN2 dA", 0, 1, R, dN * S, G, G, G, dN * S, 0.0f, 1);
    }

    size_t maxA = 0, maxB = 0, maxC = 0;
    for (int i = 0; i < nshapes; i++) {
        Shape *s = &shapes[i];
        size_t ra = s->ta ? s->k : s->m, rb = s->tb ? s->n : s->k;
        if (ra * s->lda > maxA) maxA = ra * s->lda;
        if (rb * s->ldb > maxB) maxB = rb * s->ldb;
        if ((size_t)s->m * s->ldc > maxC) maxC = (size_t)s->m * s->ldc;
    }
    size_t big = 1024 * 1024;
    if (maxA < big) maxA = big;
    if (maxB < big) maxB = big;
    if (maxC < big) maxC = big;
    float *A = malloc(maxA * sizeof(float)), *B = malloc(maxB * sizeof(float)), *C = malloc(maxC * sizeof(float));
    if (!A || !B || !C) { fprintf(stderr, "sgemm_shapes: out of memory\n"); return 1; }
    srand(1);
    for (size_t i = 0; i < maxA; i++) A[i] = (float)rand() / RAND_MAX - 0.5f;
    for (size_t i = 0; i < maxB; i++) B[i] = (float)rand() / RAND_MAX - 0.5f;
    memset(C, 0, maxC * sizeof(float));

    double total_flop = 0, total_time = 0, gh_flop = 0, gh_time = 0;
    if (!json) printf("%-32s %6s %6s %6s %5s %10s %9s\n", "product", "m", "n", "k", "calls", "MFLOP", "GFLOP/s");
    for (int i = 0; i < nshapes; i++) {
        Shape *s = &shapes[i];
        double t = time_shape(s, A, B, C, seconds);
        double flop = 2.0 * s->m * s->n * s->k * s->calls;
        total_flop += flop;
        total_time += t * s->calls;
        if (s->m == G || s->n == G || s->k == G) { gh_flop += flop; gh_time += t * s->calls; }
        if (!json)
            printf("%-32s %6d %6d %6d %5d %10.2f %9.1f\n", s->name, s->m, s->n, s->k, s->calls, flop / 1e6,
                   flop / (t * s->calls) / 1e9);
    }
    Shape sq = {"square 1024", 0, 0, 1024, 1024, 1024, 1024, 1024, 1024, 0.0f, 1};
    double tsq = time_shape(&sq, A, B, C, seconds);
    double peak = 2.0 * 1024 * 1024 * 1024 / tsq / 1e9;
    if (json) {
        printf("{\"threads\": %d, \"genes\": %d, \"rows\": %d, \"labels\": %d, \"step_gflop\": %.6f, "
               "\"step_sgemm_seconds\": %.6f, \"step_gflops\": %.3f, \"gxh_gflop\": %.6f, \"gxh_gflops\": %.3f, "
               "\"square1024_gflops\": %.3f}\n",
               threads, G, R, U, total_flop / 1e9, total_time, total_flop / total_time / 1e9, gh_flop / 1e9,
               gh_flop / gh_time / 1e9, peak);
    } else {
        printf("one step: %.3f GFLOP in sgemm/sgemv, %.2f ms if only these calls ran: %.1f GFLOP/s "
               "(G×H products: %.3f GFLOP, %.0f%%, at %.1f GFLOP/s); square 1024 sgemm: %.1f GFLOP/s, %d threads\n",
               total_flop / 1e9, total_time * 1e3, total_flop / total_time / 1e9, gh_flop / 1e9,
               100 * gh_flop / total_flop, gh_flop / gh_time / 1e9, peak, threads);
    }
    free(A); free(B); free(C);
    return 0;
}
