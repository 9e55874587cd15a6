/* Output helpers: directories, number and string formatting for CSV/JSON. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "app_internal.h"

void tw_app_format_hash(uint64_t hash, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)hash);
}

tw_status tw_app_make_dirs(const char *path, tw_diag *diag)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        tw_diag_set(diag, "output folder path is empty or too long");
        return TW_ERR_INVALID;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            tw_diag_set(diag, "cannot create folder %s: %s", buf, strerror(errno));
            return TW_ERR_IO;
        }
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        tw_diag_set(diag, "%s exists and is not a folder", path);
        return TW_ERR_IO;
    }
    return TW_OK;
}

FILE *tw_app_open_output(const char *dir, const char *name, tw_diag *diag)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) tw_diag_set(diag, "cannot write %s: %s", path, strerror(errno));
    return f;
}

void tw_app_write_number(FILE *f, double v, int json)
{
    if (!isfinite(v)) {
        if (json) fputs("null", f);
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.10g", v);
}

void tw_app_write_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}
