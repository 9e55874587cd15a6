/* A small JSON object scanner for JSON Lines and SenML records.
 *
 * A telemetry record is one flat object of a few members. Building a cJSON
 * tree for each would cost several allocations per sample, so the readers
 * scan the object in place instead: each member's key and value come back as
 * slices of the text (strings raw, escapes decoded only when used), nested
 * objects and arrays are checked and skipped. The scanner accepts exactly
 * JSON's grammar for what it reads. */
#include <string.h>

#include "bind_internal.h"

typedef struct scanner {
    const char *s;
    size_t n, i;
    const char *msg;
} scanner;

static inline void skip_ws(scanner *sc)
{
    while (sc->i < sc->n) {
        char c = sc->s[sc->i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
        sc->i++;
    }
}

static bool fail(scanner *sc, const char *msg)
{
    sc->msg = msg;
    return false;
}

/* At the opening quote; leaves i after the closing one. */
static bool scan_string(scanner *sc, const char **start, size_t *len, bool *escaped)
{
    sc->i++;
    size_t b = sc->i;
    bool esc = false;
    while (sc->i < sc->n) {
        unsigned char c = (unsigned char)sc->s[sc->i];
        if (c == '"') {
            *start = sc->s + b;
            *len = sc->i - b;
            *escaped = esc;
            sc->i++;
            return true;
        }
        if (c < 0x20) return fail(sc, "a control character inside a string (escape it)");
        if (c == '\\') {
            esc = true;
            sc->i++;
            if (sc->i >= sc->n) break;
            char e = sc->s[sc->i];
            if (e == 'u') {
                for (int k = 1; k <= 4; k++) {
                    if (sc->i + (size_t)k >= sc->n) return fail(sc, "a \\u escape needs four hex digits");
                    char h = sc->s[sc->i + (size_t)k];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                        return fail(sc, "a \\u escape needs four hex digits");
                }
                sc->i += 4;
            } else if (!strchr("\"\\/bfnrt", e) || e == '\0') {
                return fail(sc, "an unknown escape in a string");
            }
        }
        sc->i++;
    }
    return fail(sc, "a string that is not closed");
}

static bool scan_number(scanner *sc)
{
    size_t i = sc->i;
    const char *s = sc->s;
    size_t n = sc->n;
    if (i < n && s[i] == '-') i++;
    if (i >= n || s[i] < '0' || s[i] > '9') return fail(sc, "a malformed number");
    if (s[i] == '0') {
        i++;
    } else {
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return fail(sc, "a malformed number (digits must follow '.')");
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return fail(sc, "a malformed number (digits must follow 'e')");
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    sc->i = i;
    return true;
}

static bool scan_word(scanner *sc, const char *w)
{
    size_t k = strlen(w);
    if (sc->n - sc->i < k || memcmp(sc->s + sc->i, w, k) != 0) return fail(sc, "an unexpected character");
    sc->i += k;
    return true;
}

/* Any value, nested containers included (bounded depth, iteratively). */
static bool scan_value(scanner *sc, bj_type *type)
{
    skip_ws(sc);
    if (sc->i >= sc->n) return fail(sc, "a value is missing");
    char c = sc->s[sc->i];
    const char *p;
    size_t l;
    bool e;
    switch (c) {
    case '"': *type = BJ_STRING; return scan_string(sc, &p, &l, &e);
    case 't': *type = BJ_TRUE; return scan_word(sc, "true");
    case 'f': *type = BJ_FALSE; return scan_word(sc, "false");
    case 'n': *type = BJ_NULL; return scan_word(sc, "null");
    case '{':
    case '[': break;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            *type = BJ_NUMBER;
            return scan_number(sc);
        }
        return fail(sc, "an unexpected character where a value should be");
    }
    *type = c == '{' ? BJ_OBJECT : BJ_ARRAY;
    /* A nested container: a stack of open brackets, at most 64 deep. */
    char stack[64];
    int depth = 0;
    stack[depth++] = c;
    sc->i++;
    bool expect_value = true; /* right after an opener or a comma */
    bool after_opener = true;
    while (depth > 0) {
        skip_ws(sc);
        if (sc->i >= sc->n) return fail(sc, "an object or array that is not closed");
        char ch = sc->s[sc->i];
        char top = stack[depth - 1];
        if ((ch == '}' && top == '{') || (ch == ']' && top == '[')) {
            if (expect_value && !after_opener) return fail(sc, "a trailing comma");
            sc->i++;
            depth--;
            expect_value = false;
            after_opener = false;
            continue;
        }
        if (!expect_value) {
            if (ch != ',') return fail(sc, "a missing comma or closing bracket");
            sc->i++;
            expect_value = true;
            after_opener = false;
            continue;
        }
        if (top == '{') {
            if (ch != '"') return fail(sc, "an object key must be a string");
            if (!scan_string(sc, &p, &l, &e)) return false;
            skip_ws(sc);
            if (sc->i >= sc->n || sc->s[sc->i] != ':') return fail(sc, "a missing ':' after a key");
            sc->i++;
            skip_ws(sc);
            if (sc->i >= sc->n) return fail(sc, "a value is missing");
            ch = sc->s[sc->i];
        }
        if (ch == '{' || ch == '[') {
            if (depth == (int)sizeof stack) return fail(sc, "nesting deeper than 64 levels");
            stack[depth++] = ch;
            sc->i++;
            expect_value = true;
            after_opener = true;
            continue;
        }
        bj_type t;
        if (!scan_value(sc, &t)) return false; /* a scalar: no recursion beyond one level */
        expect_value = false;
        after_opener = false;
    }
    return true;
}

bool bj_object_scan(const char *text, size_t n, bj_member *members, uint32_t max, uint32_t *count,
                    size_t *err_offset, const char **err_msg)
{
    scanner sc = { text, n, 0, NULL };
    uint32_t k = 0;
    skip_ws(&sc);
    if (sc.i >= n || text[sc.i] != '{') {
        sc.msg = "expected a JSON object ('{')";
        goto error;
    }
    sc.i++;
    skip_ws(&sc);
    if (sc.i < n && text[sc.i] == '}') {
        sc.i++;
    } else {
        for (;;) {
            skip_ws(&sc);
            if (sc.i >= n || text[sc.i] != '"') {
                sc.msg = "an object key must be a string";
                goto error;
            }
            bj_member m;
            memset(&m, 0, sizeof m);
            if (!scan_string(&sc, &m.key, &m.key_len, &m.key_escaped)) goto error;
            skip_ws(&sc);
            if (sc.i >= n || text[sc.i] != ':') {
                sc.msg = "a missing ':' after a key";
                goto error;
            }
            sc.i++;
            skip_ws(&sc);
            size_t vstart = sc.i;
            if (!scan_value(&sc, &m.type)) goto error;
            if (m.type == BJ_STRING) {
                m.val = text + vstart + 1;
                m.val_len = sc.i - vstart - 2;
                m.val_escaped = memchr(m.val, '\\', m.val_len) != NULL;
            } else {
                m.val = text + vstart;
                m.val_len = sc.i - vstart;
            }
            if (k >= max) {
                sc.msg = "too many members in one record";
                goto error;
            }
            members[k++] = m;
            skip_ws(&sc);
            if (sc.i < n && text[sc.i] == ',') {
                sc.i++;
                continue;
            }
            if (sc.i < n && text[sc.i] == '}') {
                sc.i++;
                break;
            }
            sc.msg = "a missing comma or '}'";
            goto error;
        }
    }
    skip_ws(&sc);
    if (sc.i != n) {
        sc.msg = "text after the end of the object";
        goto error;
    }
    *count = k;
    return true;
error:
    *err_offset = sc.i < n ? sc.i : n;
    *err_msg = sc.msg ? sc.msg : "malformed JSON";
    *count = k;
    return false;
}

const bj_member *bj_find(const bj_member *m, uint32_t count, const char *key)
{
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < count; i++) {
        if (m[i].key_escaped) {
            char buf[128];
            size_t l = bj_unescape(m[i].key, m[i].key_len, buf, sizeof buf);
            if (l == kl && memcmp(buf, key, kl) == 0) return &m[i];
        } else if (m[i].key_len == kl && memcmp(m[i].key, key, kl) == 0) {
            return &m[i];
        }
    }
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_u16(const char *s, size_t n, size_t i, unsigned *out)
{
    if (i + 4 > n) return false;
    unsigned v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hexval(s[i + k]);
        if (h < 0) return false;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return true;
}

size_t bj_unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        unsigned cp;
        if (c != '\\') {
            if (o >= cap) return SIZE_MAX;
            out[o++] = c;
            continue;
        }
        if (++i >= n) return SIZE_MAX;
        switch (s[i]) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (!read_u16(s, n, i + 1, &cp)) return SIZE_MAX;
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (i + 2 < n && s[i + 1] == '\\' && s[i + 2] == 'u' && read_u16(s, n, i + 3, &lo) && lo >= 0xDC00 &&
                    lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                } else {
                    return SIZE_MAX; /* a lone high surrogate */
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return SIZE_MAX;
            }
            break;
        default: return SIZE_MAX;
        }
        char tmp[4];
        size_t k;
        if (cp < 0x80) {
            tmp[0] = (char)cp;
            k = 1;
        } else if (cp < 0x800) {
            tmp[0] = (char)(0xC0 | (cp >> 6));
            tmp[1] = (char)(0x80 | (cp & 0x3F));
            k = 2;
        } else if (cp < 0x10000) {
            tmp[0] = (char)(0xE0 | (cp >> 12));
            tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            tmp[2] = (char)(0x80 | (cp & 0x3F));
            k = 3;
        } else {
            tmp[0] = (char)(0xF0 | (cp >> 18));
            tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            tmp[3] = (char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (o + k > cap) return SIZE_MAX;
        memcpy(out + o, tmp, k);
        o += k;
    }
    return o;
}

bool bj_string(const bj_member *m, char *scratch, size_t cap, const char **s, size_t *n)
{
    if (!m->val_escaped) {
        *s = m->val;
        *n = m->val_len;
        return true;
    }
    size_t l = bj_unescape(m->val, m->val_len, scratch, cap);
    if (l == SIZE_MAX) return false;
    *s = scratch;
    *n = l;
    return true;
}

bool bj_number(const bj_member *m, double *v)
{
    return m->type == BJ_NUMBER && bind_parse_number(m->val, m->val_len, false, v);
}

bool bj_value(const bj_member *m, char *scratch, size_t cap, double *v)
{
    switch (m->type) {
    case BJ_NUMBER: return bj_number(m, v);
    case BJ_TRUE: *v = 1.0; return true;
    case BJ_FALSE: *v = 0.0; return true;
    case BJ_STRING: {
        const char *s;
        size_t n;
        return bj_string(m, scratch, cap, &s, &n) && bind_parse_number(s, n, false, v);
    }
    default: return false;
    }
}
