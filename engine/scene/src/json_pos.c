/* Positions of cJSON nodes in their source text, the pre-parse checks, and
 * syntax error descriptions. See json_pos.h for why this exists. */
#include "json_pos.h"

#include <stdio.h>
#include <string.h>

#include "twin/hash.h"

struct twj_slot {
    const cJSON *node; /* NULL: empty */
    size_t value;
    size_t key;        /* (size_t)-1: no key */
};

enum { NO_KEY = -1 };

size_t twj_bom_length(const char *text, size_t length)
{
    if (length >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        return 3;
    return 0;
}

static void set_error(twj_error *err, size_t offset, const char *fmt, const char *arg)
{
    err->offset = offset;
    snprintf(err->message, sizeof err->message, fmt, arg ? arg : "");
}

/* ---- before cJSON ----------------------------------------------------- */

tw_status twj_text_check(const char *text, size_t length, uint32_t max_depth, twj_scan *scan, twj_error *err)
{
    /* Offsets of the open containers; the innermost one is what a truncated
     * file is missing. cJSON refuses more than CJSON_NESTING_LIMIT levels, so
     * deeper limits cannot matter. */
    size_t stack[CJSON_NESTING_LIMIT + 1];
    if (max_depth == 0 || max_depth > CJSON_NESTING_LIMIT) max_depth = CJSON_NESTING_LIMIT;
    memset(scan, 0, sizeof *scan);
    uint32_t depth = 0;
    size_t string_start = 0;
    int in_string = 0;
    for (size_t i = twj_bom_length(text, length); i < length; i++) {
        char c = text[i];
        if (c == '\0') {
            set_error(err, i, "a NUL byte is not allowed in a scene file (is this a binary file?)%s", NULL);
            return TW_ERR_PARSE;
        }
        if (in_string) {
            if (c == '\\') {
                if (i + 1 < length && text[i + 1] != '\0') i++;
            } else if (c == '"') {
                in_string = 0;
            }
            continue;
        }
        if (c == '"') {
            in_string = 1;
            string_start = i;
        } else if (c == '{' || c == '[') {
            if (depth >= max_depth) {
                char limit[32];
                snprintf(limit, sizeof limit, "%u", max_depth);
                set_error(err, i, "nesting is deeper than the limit of %s levels of objects and arrays", limit);
                return TW_ERR_LIMIT;
            }
            stack[depth++] = i;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--; /* a mismatched bracket is cJSON's to report */
        }
    }
    if (in_string) {
        scan->unterminated = 1;
        scan->open_offset = string_start;
        scan->open_char = '"';
    } else if (depth > 0) {
        scan->unterminated = 2;
        scan->open_offset = stack[depth - 1];
        scan->open_char = text[stack[depth - 1]];
    }
    scan->depth = depth;
    return TW_OK;
}

/* ---- lockstep walk ------------------------------------------------------ */

typedef struct walker {
    const char *text;
    size_t length;
    size_t pos;
    twj_map *map;
    twj_error *err;
} walker;

static size_t count_nodes(const cJSON *n)
{
    size_t count = 1;
    for (const cJSON *c = n->child; c; c = c->next) count += count_nodes(c);
    return count;
}

static size_t slot_index(const twj_map *m, const cJSON *node)
{
    return (size_t)tw_hash_mix64((uint64_t)(uintptr_t)node) & (m->cap - 1);
}

static void put(twj_map *m, const cJSON *node, size_t value, size_t key)
{
    size_t i = slot_index(m, node);
    while (m->slots[i].node && m->slots[i].node != node) i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].node) m->count++;
    m->slots[i] = (twj_slot){ node, value, key };
}

static const twj_slot *find(const twj_map *m, const cJSON *node)
{
    if (!m->cap || !node) return NULL;
    size_t i = slot_index(m, node);
    while (m->slots[i].node) {
        if (m->slots[i].node == node) return &m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

static int skip_ws(walker *w)
{
    while (w->pos < w->length) {
        unsigned char c = (unsigned char)w->text[w->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            w->pos++;
        } else if (c < 0x20) {
            /* cJSON skips every byte <= 32 as whitespace; JSON does not. */
            w->err->offset = w->pos;
            snprintf(w->err->message, sizeof w->err->message,
                     "control character 0x%02x outside a string: JSON whitespace is space, tab, CR and LF", c);
            return -1;
        } else {
            break;
        }
    }
    return 0;
}

static int out_of_step(walker *w, const char *what)
{
    w->err->offset = w->pos;
    snprintf(w->err->message, sizeof w->err->message, "internal error: position map lost track (expected %s)",
             what);
    return -1;
}

static int expect(walker *w, char c)
{
    if (skip_ws(w)) return -1;
    if (w->pos >= w->length || w->text[w->pos] != c) {
        char what[4] = { '\'', c, '\'', 0 };
        return out_of_step(w, what);
    }
    w->pos++;
    return 0;
}

static int skip_string(walker *w)
{
    if (w->pos >= w->length || w->text[w->pos] != '"') return out_of_step(w, "a string");
    w->pos++;
    while (w->pos < w->length) {
        unsigned char c = (unsigned char)w->text[w->pos];
        if (c == '"') {
            w->pos++;
            return 0;
        }
        if (c < 0x20) {
            w->err->offset = w->pos;
            snprintf(w->err->message, sizeof w->err->message,
                     "raw control character 0x%02x in a string: write it as an escape (\\n, \\t, \\u%04x)", c, c);
            return -1;
        }
        if (c == '\\') {
            w->pos++;
            if (w->pos >= w->length) break;
            char e = w->text[w->pos];
            if (!e || !strchr("\"\\/bfnrtu", e)) {
                w->err->offset = w->pos - 1;
                snprintf(w->err->message, sizeof w->err->message,
                         "invalid escape '\\%c' in a string: JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
                         e);
                return -1;
            }
        }
        w->pos++;
    }
    return out_of_step(w, "the end of a string");
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* JSON's number grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
 * over the run of bytes cJSON took as the number. */
static int skip_number(walker *w)
{
    size_t start = w->pos, end = start;
    while (end < w->length && w->text[end] && strchr("0123456789+-.eE", w->text[end])) end++;
    const char *p = w->text + start, *e = w->text + end;
    int ok = 1;
    if (p < e && *p == '-') p++;
    if (p < e && *p == '0') {
        p++;
    } else if (p < e && is_digit(*p)) {
        while (p < e && is_digit(*p)) p++;
    } else {
        ok = 0;
    }
    if (ok && p < e && *p == '.') {
        p++;
        if (!(p < e && is_digit(*p))) ok = 0;
        while (p < e && is_digit(*p)) p++;
    }
    if (ok && p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (!(p < e && is_digit(*p))) ok = 0;
        while (p < e && is_digit(*p)) p++;
    }
    if (!ok || p != e) {
        char shown[40];
        size_t n = end - start < sizeof shown - 1 ? end - start : sizeof shown - 1;
        memcpy(shown, w->text + start, n);
        shown[n] = '\0';
        w->err->offset = start;
        snprintf(w->err->message, sizeof w->err->message,
                 "malformed number '%s': JSON numbers have no leading '+' or zeros, and digits on both sides "
                 "of a '.'",
                 shown);
        return -1;
    }
    w->pos = end;
    return 0;
}

static int skip_literal(walker *w, const char *lit)
{
    size_t n = strlen(lit);
    if (w->pos + n > w->length || memcmp(w->text + w->pos, lit, n) != 0) return out_of_step(w, lit);
    w->pos += n;
    return 0;
}

static int walk(walker *w, const cJSON *node, size_t key)
{
    if (skip_ws(w)) return -1;
    if (w->map) put(w->map, node, w->pos, key);
    switch (node->type & 0xFF) {
    case cJSON_Object: {
        if (expect(w, '{')) return -1;
        for (const cJSON *c = node->child; c; c = c->next) {
            if (c != node->child && expect(w, ',')) return -1;
            if (skip_ws(w)) return -1;
            size_t key_at = w->pos;
            if (skip_string(w) || expect(w, ':') || walk(w, c, key_at)) return -1;
        }
        return expect(w, '}');
    }
    case cJSON_Array:
        if (expect(w, '[')) return -1;
        for (const cJSON *c = node->child; c; c = c->next) {
            if (c != node->child && expect(w, ',')) return -1;
            if (walk(w, c, (size_t)NO_KEY)) return -1;
        }
        return expect(w, ']');
    case cJSON_String: return skip_string(w);
    case cJSON_Number: return skip_number(w);
    case cJSON_True: return skip_literal(w, "true");
    case cJSON_False: return skip_literal(w, "false");
    case cJSON_NULL: return skip_literal(w, "null");
    default: return out_of_step(w, "a value cJSON could parse");
    }
}

/* Walks text and tree together, recording into m when it is not NULL. */
static tw_status walk_all(twj_map *m, const char *text, size_t length, const cJSON *root, twj_error *err)
{
    walker w = { text, length, twj_bom_length(text, length), m, err };
    if (walk(&w, root, (size_t)NO_KEY) == 0 && skip_ws(&w) == 0) {
        if (w.pos == length) return TW_OK;
        /* cJSON stops after the first value; anything after it is an error. */
        err->offset = w.pos;
        snprintf(err->message, sizeof err->message,
                 "unexpected text after the end of the JSON document (one file holds one object)");
    }
    return TW_ERR_PARSE;
}

tw_status twj_check_tree(const char *text, size_t length, const cJSON *root, twj_error *err)
{
    return walk_all(NULL, text, length, root, err);
}

tw_status twj_map_build(twj_map *m, const tw_allocator *alloc, const char *text, size_t length,
                        const cJSON *root, twj_error *err)
{
    memset(m, 0, sizeof *m);
    m->alloc = tw_allocator_or_default(alloc);
    size_t nodes = count_nodes(root), cap = 16;
    while (cap < nodes * 2) cap *= 2;
    m->slots = tw_calloc(&m->alloc, cap, sizeof *m->slots);
    if (!m->slots) return TW_ERR_NOMEM;
    m->cap = cap;
    tw_status st = walk_all(m, text, length, root, err);
    if (st) twj_map_fini(m);
    return st;
}

void twj_map_fini(twj_map *m)
{
    tw_free(&m->alloc, m->slots, m->cap * sizeof *m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

bool twj_map_value_offset(const twj_map *m, const cJSON *node, size_t *offset)
{
    const twj_slot *s = find(m, node);
    if (!s) return false;
    *offset = s->value;
    return true;
}

bool twj_map_key_offset(const twj_map *m, const cJSON *node, size_t *offset)
{
    const twj_slot *s = find(m, node);
    if (!s || s->key == (size_t)NO_KEY) return false;
    *offset = s->key;
    return true;
}

void twj_line_col(const char *text, size_t length, size_t offset, int *line, int *column)
{
    int l = 1, c = 1;
    if (offset > length) offset = length;
    size_t bom = twj_bom_length(text, length);
    for (size_t i = bom < offset ? bom : offset; i < offset; i++) {
        unsigned char b = (unsigned char)text[i];
        if (b == '\n') {
            l++;
            c = 1;
        } else if ((b & 0xC0) != 0x80) {
            c++; /* count characters, not UTF-8 continuation bytes */
        }
    }
    *line = l;
    *column = c;
}

/* ---- text that does not parse ------------------------------------------- */

enum { PATH_LEVELS = 128 };

typedef struct path_level {
    char type;       /* '{' or '[' */
    char expect_key; /* object: after '{' or ',' and before ':' */
    char has_key;    /* object: the key of the current member was read */
    size_t index;    /* array: items before the current one */
    size_t key_off, key_len;
} path_level;

/* Where the text up to offset leaves us: the open containers, outermost
 * first (only the first PATH_LEVELS are kept, *depth counts them all). */
static void scan_to(const char *text, size_t length, size_t offset, path_level *lv, size_t *depth_out)
{
    size_t depth = 0;
    if (offset > length) offset = length;
    for (size_t i = twj_bom_length(text, length); i < offset; i++) {
        char c = text[i];
        path_level *top = depth > 0 && depth <= PATH_LEVELS ? &lv[depth - 1] : NULL;
        if (c == '"') {
            size_t start = i + 1;
            for (i++; i < length && text[i] != '"'; i++)
                if (text[i] == '\\') i++;
            if (top && top->type == '{' && top->expect_key && !top->has_key) {
                top->has_key = 1;
                top->key_off = start;
                top->key_len = (i < length ? i : length) - start;
                if (top->key_len > 64) top->key_len = 64;
            }
        } else if (c == '{' || c == '[') {
            if (depth < PATH_LEVELS) lv[depth] = (path_level){ c, c == '{', 0, 0, 0, 0 };
            depth++;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        } else if (c == ',' && top) {
            if (top->type == '[') {
                top->index++;
            } else {
                top->expect_key = 1;
                top->has_key = 0;
            }
        } else if (c == ':' && top && top->type == '{') {
            top->expect_key = 0;
        }
    }
    *depth_out = depth;
}

static size_t skip_space_back(const char *text, size_t offset)
{
    while (offset > 0) {
        unsigned char c = (unsigned char)text[offset - 1];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        offset--;
    }
    return offset;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* In a text that ends inside a container, is cJSON's error at offset just
 * the end arriving too soon? cJSON puts an error past the end on the last
 * byte, so look at what the text ends with. */
static int ends_cut_short(const char *text, size_t length, size_t offset)
{
    static const char *const literals[] = { "true", "false", "null" };
    for (size_t i = 0; i < 3; i++) {
        size_t n = length - offset;
        if (offset < length && n < strlen(literals[i]) && memcmp(text + offset, literals[i], n) == 0) return 1;
    }
    if (offset + 1 < length) return 0;
    char last = text[length - 1];
    if (last && strchr(" \t\r\n,:[{\"0123456789.eE+-", last)) return 1;
    if (last == '}' || last == ']') {
        /* A bracket that closes what it should is fine; the end is not. */
        path_level lv[PATH_LEVELS];
        size_t depth = 0;
        scan_to(text, length, length - 1, lv, &depth);
        return depth > 0 && (depth > PATH_LEVELS || lv[depth - 1].type == (last == '}' ? '{' : '['));
    }
    return 0;
}

void twj_describe_syntax_error(const char *text, size_t length, size_t offset, const twj_scan *scan,
                               twj_error *err)
{
    char where[64];
    /* Only whitespace left: the text ended too soon. */
    size_t rest = offset;
    while (rest < length && is_space(text[rest])) rest++;
    if (rest >= length) offset = length;
    /* cJSON clamps an error past the end to the last byte, and reports a
     * failed string one byte past its start: a text that stops inside a
     * string or container is best reported at its end. */
    int at_end = offset >= length || (scan->unterminated == 1 && offset >= scan->open_offset) ||
                 (scan->unterminated == 2 && ends_cut_short(text, length, offset));
    if (at_end && scan->unterminated) {
        int line, col;
        twj_line_col(text, length, scan->open_offset, &line, &col);
        snprintf(where, sizeof where, "line %d, column %d", line, col);
        err->offset = length;
        if (scan->unterminated == 1)
            snprintf(err->message, sizeof err->message,
                     "unexpected end of file inside the string that starts at %s (is the file truncated?)", where);
        else
            snprintf(err->message, sizeof err->message,
                     "unexpected end of file: the %s opened at %s is not closed%s (is the file truncated?)",
                     scan->open_char == '{' ? "object" : "array", where,
                     scan->depth > 1 ? ", nor are the ones around it" : "");
        return;
    }
    if (offset >= length) {
        err->offset = length;
        snprintf(err->message, sizeof err->message, "%s",
                 skip_space_back(text, length) <= twj_bom_length(text, length)
                     ? "the file is empty: expected a JSON object"
                     : "unexpected end of file: expected a JSON value");
        return;
    }
    /* Where an object key should start, cJSON reports the byte after the
     * offending one. */
    path_level lv[PATH_LEVELS];
    size_t depth = 0;
    int want_key = 0;
    if (offset > 0 && !is_space(text[offset - 1]) && text[offset - 1] != '"') {
        scan_to(text, length, offset - 1, lv, &depth);
        if (depth > 0 && depth <= PATH_LEVELS && lv[depth - 1].type == '{' && lv[depth - 1].expect_key &&
            !lv[depth - 1].has_key) {
            offset--;
            want_key = 1;
        }
    }
    err->offset = offset;
    unsigned char c = (unsigned char)text[offset];
    size_t before = skip_space_back(text, offset);
    char prev = before > 0 ? text[before - 1] : '\0';
    if ((c == '}' || c == ']') && prev == ',') {
        snprintf(err->message, sizeof err->message, "unexpected '%c' after a comma: JSON allows no trailing comma",
                 c);
    } else if (c == '/' && offset + 1 < length && (text[offset + 1] == '/' || text[offset + 1] == '*')) {
        snprintf(err->message, sizeof err->message, "comments are not allowed in JSON");
    } else if (c == '\'') {
        snprintf(err->message, sizeof err->message, "unexpected \"'\": JSON strings use double quotes");
    } else if (want_key) {
        snprintf(err->message, sizeof err->message, "unexpected '%c': expected a key (a string in double quotes)",
                 c);
    } else if (c == '}' || c == ']') {
        snprintf(err->message, sizeof err->message, "unexpected '%c'%s", c,
                 prev == ':' ? ": expected a value after ':'" : ": is a bracket mismatched?");
    } else if ((c == '"' || c == '{' || c == '[' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' ||
                c == 'n') &&
               (prev == '"' || prev == '}' || prev == ']' || prev == 'e' || prev == 'l' ||
                (prev >= '0' && prev <= '9'))) {
        snprintf(err->message, sizeof err->message, "unexpected '%c': is a ',' or ':' missing before it?", c);
    } else if (c == ',' || c == ':') {
        snprintf(err->message, sizeof err->message, "unexpected '%c': expected a value", c);
    } else if (c == '\\' ) {
        snprintf(err->message, sizeof err->message,
                 "invalid escape in a string: JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
    } else if (c >= 0x21 && c < 0x7f) {
        snprintf(err->message, sizeof err->message,
                 "unexpected '%c': expected a JSON value (a string in double quotes, a number, true, false, null, "
                 "an object or an array)",
                 c);
    } else {
        snprintf(err->message, sizeof err->message, "unexpected byte 0x%02x: expected a JSON value", c);
    }
}

/* Appends a member segment: .name, or ["odd key"] when it is not a plain word. */
static void append_key(char *out, size_t size, size_t *n, const char *key, size_t len)
{
    int plain = len > 0;
    for (size_t i = 0; i < len && plain; i++) {
        char c = key[i];
        plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-' ||
                (i > 0 && c >= '0' && c <= '9');
    }
    int w = plain ? snprintf(out + *n, size - *n, ".%.*s", (int)len, key)
                  : snprintf(out + *n, size - *n, "[\"%.*s\"]", (int)len, key);
    if (w > 0) *n = *n + (size_t)w < size ? *n + (size_t)w : size - 1;
}

void twj_path_key(char *out, size_t size, const char *key)
{
    size_t n = strlen(out);
    if (n + 1 < size) append_key(out, size, &n, key, strlen(key));
}

void twj_path_at(const char *text, size_t length, size_t offset, char *out, size_t size)
{
    if (size == 0) return;
    path_level lv[PATH_LEVELS];
    size_t depth = 0;
    scan_to(text, length, offset, lv, &depth);
    int w = snprintf(out, size, "$");
    size_t n = w > 0 && (size_t)w < size ? (size_t)w : 0;
    for (size_t d = 0; d < depth && d < PATH_LEVELS && n + 1 < size; d++) {
        if (lv[d].type == '{') {
            if (lv[d].has_key) append_key(out, size, &n, text + lv[d].key_off, lv[d].key_len);
        } else {
            w = snprintf(out + n, size - n, "[%zu]", lv[d].index);
            if (w > 0) n = n + (size_t)w < size ? n + (size_t)w : size - 1;
        }
    }
    if (depth > PATH_LEVELS && n + 4 < size) memcpy(out + n, "...", 4);
}
