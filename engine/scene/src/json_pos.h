/* json_pos.h: text positions for a cJSON tree (private to the scene module).
 *
 * cJSON keeps no positions, but it does keep object members and array items
 * in text order. twj_map_build walks the original text with a small
 * tokenizer in lockstep with the parsed tree and records, for every node,
 * the byte offset of its value and (for object members) of its key, so a
 * diagnostic can say file:line:column. The map costs memory in proportion to
 * the document, so the loader builds it only once it has something to report.
 * The same walk, without the map (twj_check_tree), rejects what cJSON lets
 * through but JSON forbids (numbers such as +1 or 01, raw control characters),
 * so a scene twin accepts is JSON every other tool accepts too.
 *
 * twj_text_check runs before cJSON sees the text: it enforces the nesting
 * limit (cJSON's own is 1000 levels of recursion) and notes whether the text
 * ends inside a string or an open container, so a truncated file is reported
 * at its end with what is missing. */
#ifndef TWIN_SCENE_JSON_POS_H
#define TWIN_SCENE_JSON_POS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "twin/alloc.h"
#include "twin/status.h"

/* Where a failure is (byte offset into the text) and a sentence about it. */
typedef struct twj_error {
    size_t offset;
    char message[320];
} twj_error;

/* What twj_text_check learnt about the text as a whole. */
typedef struct twj_scan {
    int unterminated;   /* 0: no; 1: ends inside a string; 2: ends inside an object or array */
    size_t open_offset; /* where that string, or the innermost open container, starts */
    char open_char;     /* '"', '{' or '[' */
    uint32_t depth;     /* containers still open at the end */
} twj_scan;

typedef struct twj_slot twj_slot;

/* Node pointer -> offsets, open addressing. */
typedef struct twj_map {
    tw_allocator alloc;
    twj_slot *slots;
    size_t cap; /* a power of two */
    size_t count;
} twj_map;

/* Length of a UTF-8 byte-order mark at the start (0 or 3); cJSON skips one too. */
size_t twj_bom_length(const char *text, size_t length);

/* Rejects NUL bytes and nesting deeper than max_depth (TW_ERR_PARSE or
 * TW_ERR_LIMIT with err), and fills scan. */
tw_status twj_text_check(const char *text, size_t length, uint32_t max_depth, twj_scan *scan, twj_error *err);

/* Turns the offset cJSON failed at into a sentence (and maybe a better
 * offset, such as the end of a truncated file). */
void twj_describe_syntax_error(const char *text, size_t length, size_t offset, const twj_scan *scan,
                               twj_error *err);

/* Checks that text (which cJSON parsed into root) is standard JSON, with
 * nothing after the document: TW_ERR_PARSE with err otherwise. */
tw_status twj_check_tree(const char *text, size_t length, const cJSON *root, twj_error *err);

/* Records every node of root (parsed from text) in m. TW_ERR_PARSE with err
 * for non-standard JSON that cJSON accepted; TW_ERR_NOMEM when the allocator
 * fails. m needs no fini after a failure. */
tw_status twj_map_build(twj_map *m, const tw_allocator *alloc, const char *text, size_t length,
                        const cJSON *root, twj_error *err);
void twj_map_fini(twj_map *m);
/* Offset of node's value; false when node is not in the map. */
bool twj_map_value_offset(const twj_map *m, const cJSON *node, size_t *offset);
/* Offset of the key of an object member; false for array items, the root
 * and nodes not in the map. */
bool twj_map_key_offset(const twj_map *m, const cJSON *node, size_t *offset);

/* Best-effort JSON path ("$.entities[0].name") of the place at offset in a
 * text that may not parse; used for syntax errors. */
void twj_path_at(const char *text, size_t length, size_t offset, char *out, size_t size);
/* Appends a member segment for key to the path in out (".key", or ["key"]
 * when the key is not a plain word). */
void twj_path_key(char *out, size_t size, const char *key);

/* 1-based line and column of a byte offset; columns count UTF-8 characters. */
void twj_line_col(const char *text, size_t length, size_t offset, int *line, int *column);

#endif
