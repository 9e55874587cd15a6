/* tests/render_log.h: the log the Vulkan tests give their renderers, and a
 * renderer made with the Khronos validation layer on (include after test.h
 * and twin/render.h).
 *
 * Every "validation:" message is counted, so a test can fail on any; warnings
 * and errors are echoed to stderr. test_render_open skips the test (no
 * Vulkan device at all) or fails it (no validation layer: the tests would
 * prove nothing without it) unless a renderer comes up. */
#ifndef TWIN_TEST_RENDER_LOG_H
#define TWIN_TEST_RENDER_LOG_H

#include <stdio.h>
#include <string.h>

typedef struct test_render_log {
    tw_log log;         /* hand &log to the renderer (and the platform) */
    int validation;     /* "validation:" messages, including those at instance teardown */
} test_render_log;

static inline void test_render_log_sink(void *user, tw_log_level level, const char *module, const char *msg)
{
    test_render_log *l = user;
    if (strncmp(msg, "validation:", 11) == 0) l->validation++;
    if (level >= TW_LOG_WARN) fprintf(stderr, "  [%s] %s\n", module, msg);
}

static inline void test_render_log_init(test_render_log *l)
{
    memset(l, 0, sizeof *l);
    l->log.sink = test_render_log_sink;
    l->log.user = l;
}

/* desc with validation on and l's log; 0 and *out set, or -1 after marking
 * the test skipped or failed. */
static inline int test_render_open(tw_render_desc desc, test_render_log *l, tw_render **out)
{
    *out = NULL;
    desc.validation = 1;
    desc.log = &l->log;
    tw_status st = tw_render_new(&desc, out);
    if (st == TW_ERR_UNSUPPORTED) {
        snprintf(test_skip_reason, sizeof test_skip_reason, "no Vulkan device on this machine");
        test_skipped_flag = 1;
        return -1;
    }
    if (st != TW_OK) {
        TEST_FAIL_AT(__FILE__, __LINE__, "tw_render_new failed: %s", tw_status_str(st));
        return -1;
    }
    tw_render_info info;
    tw_render_get_info(*out, &info);
    if (!info.validation) {
        TEST_FAIL_AT(__FILE__, __LINE__, "the validation layer is not available (install vulkan-validationlayers)");
        tw_render_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

#endif
