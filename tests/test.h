/* tests/test.h: a small test harness, one executable per module.
 *
 *   TEST(suite_behaviour) { CHECK(x == 1); CHECK_EQ_INT(a, b); }
 *   int main(int argc, char **argv) { return test_main(argc, argv); }
 *
 * Cases register themselves (constructor attribute), run in file order, and
 * the run ends with "N passed, N failed" (", N skipped"). A case may call
 * TEST_SKIP("why") to skip itself. Pass a case name (or a prefix ending in *)
 * to run only those. Exit code: 0 all passed, 1 any failed, 77 all skipped. */
#ifndef TWIN_TEST_H
#define TWIN_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*test_fn)(void);
typedef struct test_case { const char *name; test_fn fn; } test_case;

enum { TEST_MAX_CASES = 512 };
/* One registry per executable, however many files add cases: weak (not
 * static) so every translation unit that includes this header shares it. */
__attribute__((weak)) test_case test_cases[TEST_MAX_CASES];
__attribute__((weak)) int test_case_count;
__attribute__((weak)) int test_failed_checks;
__attribute__((weak)) int test_skipped_flag;
__attribute__((weak)) char test_skip_reason[256];

static inline void test_register(const char *name, test_fn fn)
{
    if (test_case_count < TEST_MAX_CASES) test_cases[test_case_count++] = (test_case){ name, fn };
}

#define TEST(name)                                                              \
    static void test_##name(void);                                              \
    __attribute__((constructor)) static void test_register_##name(void)         \
    { test_register(#name, test_##name); }                                      \
    static void test_##name(void)

#define TEST_FAIL_AT(file, line, ...)                                           \
    do {                                                                        \
        fprintf(stderr, "%s:%d: check failed: ", file, line);                   \
        fprintf(stderr, __VA_ARGS__);                                           \
        fputc('\n', stderr);                                                    \
        test_failed_checks++;                                                   \
    } while (0)

#define CHECK(cond)                                                             \
    do { if (!(cond)) TEST_FAIL_AT(__FILE__, __LINE__, "%s", #cond); } while (0)
#define REQUIRE(cond)                                                           \
    do { if (!(cond)) { TEST_FAIL_AT(__FILE__, __LINE__, "%s (required)", #cond); return; } } while (0)
#define CHECK_EQ_INT(a, b)                                                      \
    do { long long va_ = (long long)(a), vb_ = (long long)(b);                  \
         if (va_ != vb_) TEST_FAIL_AT(__FILE__, __LINE__, "%s == %s (%lld vs %lld)", #a, #b, va_, vb_); } while (0)
#define CHECK_EQ_U64(a, b)                                                      \
    do { unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b); \
         if (va_ != vb_) TEST_FAIL_AT(__FILE__, __LINE__, "%s == %s (%llu vs %llu)", #a, #b, va_, vb_); } while (0)
#define CHECK_NEAR(a, b, tol)                                                   \
    do { double va_ = (double)(a), vb_ = (double)(b);                           \
         if (!(fabs(va_ - vb_) <= (tol))) TEST_FAIL_AT(__FILE__, __LINE__, "%s ~= %s (%.9g vs %.9g, tol %g)", #a, #b, va_, vb_, (double)(tol)); } while (0)
#define CHECK_STR(a, b)                                                         \
    do { const char *va_ = (a), *vb_ = (b);                                     \
         if (!va_ || !vb_ || strcmp(va_, vb_) != 0) TEST_FAIL_AT(__FILE__, __LINE__, "%s == %s (\"%s\" vs \"%s\")", #a, #b, va_ ? va_ : "(null)", vb_ ? vb_ : "(null)"); } while (0)
#define CHECK_CONTAINS(hay, needle)                                             \
    do { const char *vh_ = (hay), *vn_ = (needle);                              \
         if (!vh_ || !strstr(vh_, vn_)) TEST_FAIL_AT(__FILE__, __LINE__, "\"%s\" contains \"%s\"", vh_ ? vh_ : "(null)", vn_); } while (0)
#define TEST_SKIP(...)                                                          \
    do { snprintf(test_skip_reason, sizeof test_skip_reason, __VA_ARGS__); test_skipped_flag = 1; return; } while (0)

/* Path of a shared data file: $TWIN_DATA_DIR/rel, else the source tree's ../shared/data/rel.
 * Returns NULL (and the test should skip) when it does not exist. */
static inline const char *test_data_path(const char *rel, char *buf, size_t size)
{
    const char *dir = getenv("TWIN_DATA_DIR");
#ifdef TWIN_SOURCE_DIR
    char fallback[1024];
    if (!dir) {
        int m = snprintf(fallback, sizeof fallback, "%s/../shared/data", TWIN_SOURCE_DIR);
        if (m < 0 || (size_t)m >= sizeof fallback) return NULL;
        dir = fallback;
    }
#endif
    if (!dir) return NULL;
    int n = snprintf(buf, size, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= size) return NULL;
    FILE *f = fopen(buf, "rb");
    if (!f) return NULL;
    fclose(f);
    return buf;
}

static inline int test_main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < test_case_count; i++) {
        const test_case *tc = &test_cases[i];
        if (argc > 1) {
            size_t n = strlen(argv[1]);
            int match = (n && argv[1][n - 1] == '*') ? strncmp(tc->name, argv[1], n - 1) == 0
                                                     : strcmp(tc->name, argv[1]) == 0;
            if (!match) continue;
        }
        test_failed_checks = 0;
        test_skipped_flag = 0;
        tc->fn();
        if (test_failed_checks) {
            failed++;
            printf("FAIL %s\n", tc->name);
        } else if (test_skipped_flag) {
            skipped++;
            printf("SKIP %s: %s\n", tc->name, test_skip_reason);
        } else {
            passed++;
            printf("ok   %s\n", tc->name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (failed) return 1;
    if (passed == 0 && skipped > 0) return 77;
    return 0;
}

#endif
