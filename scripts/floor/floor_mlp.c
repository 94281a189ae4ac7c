/* floor.c's loop (feature-major, the sample loop innermost, every size a compile-time
 * constant) extended to any 2-H-H-K network: H hidden units per layer with the hidden
 * activation ACT (0 sigmoid, 1 tanh, 2 relu), and either one sigmoid output with MSE
 * (K = 1, as floor.c) or a softmax output with cross-entropy (K > 1, labels 0..K-1).
 * Full-batch gradient descent, the loss tested before each update, as floor.c.
 * stdin (text): n lr threshold epochs repeats, then X (n*2 row-major), Y (n),
 *               then W1 (3xH), W2 ((H+1)xH), W3 ((H+1)xK) row-major, last row = bias.
 * stdout: stop_epoch final_loss median_us_per_epoch min_us max_us
 * build:  gcc -O3 -march=native -ffast-math -DH=16 -DK=3 -DACT=1 floor_mlp.c -lm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef H
#define H 16
#endif
#ifndef K
#define K 1
#endif
#ifndef ACT
#define ACT 0
#endif
#define NMAX 512
static double X[2][NMAX], Y[NMAX];
static double W1i[3][H], W2i[H + 1][H], W3i[H + 1][K];

static double now(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static inline double act(double z) {
#if ACT == 0
    return 1.0 / (1.0 + exp(-z));
#elif ACT == 1
    return tanh(z);
#else
    return z > 0.0 ? z : 0.0;
#endif
}

static inline double slope(double a) { /* f'(z) from a = f(z) */
#if ACT == 0
    return a * (1.0 - a);
#elif ACT == 1
    return 1.0 - a * a;
#else
    return a > 0.0 ? 1.0 : 0.0;
#endif
}

static int train(int n, double lr, double thr, long epochs, double *final_loss) {
    double W1[2][H], b1[H], W2[H][H], b2[H], W3[H][K], b3[K];
    for (int j = 0; j < H; j++) { W1[0][j] = W1i[0][j]; W1[1][j] = W1i[1][j]; b1[j] = W1i[2][j]; }
    for (int i = 0; i < H; i++) for (int j = 0; j < H; j++) W2[i][j] = W2i[i][j];
    for (int j = 0; j < H; j++) b2[j] = W2i[H][j];
    for (int i = 0; i < H; i++) for (int c = 0; c < K; c++) W3[i][c] = W3i[i][c];
    for (int c = 0; c < K; c++) b3[c] = W3i[H][c];
    static double A1[H][NMAX], A2[H][NMAX], Z3[K][NMAX], U3[K][NMAX], U2[H][NMAX], U1[H][NMAX];
    static double top[NMAX], sum[NMAX];
    double L = 0;
    long e;
    for (e = 0; e < epochs; e++) {
        for (int j = 0; j < H; j++)
            for (int s = 0; s < n; s++)
                A1[j][s] = act(b1[j] + W1[0][j] * X[0][s] + W1[1][j] * X[1][s]);
        for (int j = 0; j < H; j++)
            for (int s = 0; s < n; s++) {
                double z = b2[j];
                for (int i = 0; i < H; i++) z += W2[i][j] * A1[i][s];
                A2[j][s] = act(z);
            }
        for (int c = 0; c < K; c++)
            for (int s = 0; s < n; s++) {
                double z = b3[c];
                for (int i = 0; i < H; i++) z += W3[i][c] * A2[i][s];
                Z3[c][s] = z;
            }
        L = 0;
#if K == 1
        for (int s = 0; s < n; s++) {
            double a = 1.0 / (1.0 + exp(-Z3[0][s])), d = a - Y[s];
            L += d * d;
            U3[0][s] = 2.0 / n * d * a * (1.0 - a);
        }
        L /= n;
#else
        for (int s = 0; s < n; s++) top[s] = Z3[0][s];
        for (int c = 1; c < K; c++)
            for (int s = 0; s < n; s++) top[s] = Z3[c][s] > top[s] ? Z3[c][s] : top[s];
        for (int s = 0; s < n; s++) sum[s] = 0.0;
        for (int c = 0; c < K; c++)
            for (int s = 0; s < n; s++) { U3[c][s] = exp(Z3[c][s] - top[s]); sum[s] += U3[c][s]; }
        for (int s = 0; s < n; s++) L += log(sum[s]) + top[s] - Z3[(int)Y[s]][s];
        for (int c = 0; c < K; c++)
            for (int s = 0; s < n; s++) U3[c][s] = (U3[c][s] / sum[s] - (Y[s] == c)) / n;
        L /= n;
#endif
        if (L < thr) break;
        for (int j = 0; j < H; j++)
            for (int s = 0; s < n; s++) {
                double g = 0;
                for (int c = 0; c < K; c++) g += W3[j][c] * U3[c][s];
                U2[j][s] = g * slope(A2[j][s]);
            }
        for (int i = 0; i < H; i++)
            for (int s = 0; s < n; s++) {
                double g = 0;
                for (int j = 0; j < H; j++) g += W2[i][j] * U2[j][s];
                U1[i][s] = g * slope(A1[i][s]);
            }
        for (int c = 0; c < K; c++) {
            double gb = 0;
            for (int s = 0; s < n; s++) gb += U3[c][s];
            for (int i = 0; i < H; i++) {
                double g = 0;
                for (int s = 0; s < n; s++) g += A2[i][s] * U3[c][s];
                W3[i][c] -= lr * g;
            }
            b3[c] -= lr * gb;
        }
        for (int j = 0; j < H; j++) {
            double gb = 0, gb1 = 0;
            for (int s = 0; s < n; s++) { gb += U2[j][s]; gb1 += U1[j][s]; }
            b2[j] -= lr * gb;
            b1[j] -= lr * gb1;
            for (int i = 0; i < H; i++) {
                double g = 0;
                for (int s = 0; s < n; s++) g += A1[i][s] * U2[j][s];
                W2[i][j] -= lr * g;
            }
            for (int i = 0; i < 2; i++) {
                double g = 0;
                for (int s = 0; s < n; s++) g += X[i][s] * U1[j][s];
                W1[i][j] -= lr * g;
            }
        }
    }
    *final_loss = L;
    return (int)e;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    int n, repeats; long epochs; double lr, thr;
    if (scanf("%d %lf %lf %ld %d", &n, &lr, &thr, &epochs, &repeats) != 5 || n > NMAX) return 1;
    for (int s = 0; s < n; s++) if (scanf("%lf %lf", &X[0][s], &X[1][s]) != 2) return 2;
    for (int s = 0; s < n; s++) if (scanf("%lf", &Y[s]) != 1) return 3;
    for (int i = 0; i < 3; i++) for (int j = 0; j < H; j++) if (scanf("%lf", &W1i[i][j]) != 1) return 4;
    for (int i = 0; i <= H; i++) for (int j = 0; j < H; j++) if (scanf("%lf", &W2i[i][j]) != 1) return 5;
    for (int i = 0; i <= H; i++) for (int c = 0; c < K; c++) if (scanf("%lf", &W3i[i][c]) != 1) return 6;
    double fl; int stop = 0;
    double ts[64];
    if (repeats > 64) repeats = 64;
    train(n, lr, thr, epochs < 1000 ? epochs : 1000, &fl); /* warm-up */
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        stop = train(n, lr, thr, epochs, &fl);
        ts[r] = (now() - t0) / (stop > 0 ? stop : 1) * 1e6;
    }
    qsort(ts, repeats, sizeof(double), cmp);
    printf("%d %.10g %.4f %.4f %.4f\n", stop, fl, ts[repeats / 2], ts[0], ts[repeats - 1]);
    return 0;
}
