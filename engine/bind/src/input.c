/* Chunked byte input from a file descriptor or memory.
 *
 * Readers scan buf[start..end) for whole records and call bind_input_fill
 * when a record runs past end. Memory input is copied in chunk by chunk too,
 * so the same record-splitting code runs (and is tested, with tiny chunks)
 * whatever the input. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "bind_internal.h"

void bind_input_init(bind_input *in, const tw_allocator *alloc, size_t chunk, size_t max_record, bool live)
{
    memset(in, 0, sizeof *in);
    in->alloc = tw_allocator_or_default(alloc);
    in->fd = -1;
    in->chunk = chunk ? chunk : 256 * 1024;
    in->max_record = max_record ? max_record : 1024 * 1024;
    if (in->max_record < 16) in->max_record = 16;
    in->live = live;
}

void bind_input_fini(bind_input *in)
{
    if (in->own_fd && in->fd >= 0) close(in->fd);
    tw_free(&in->alloc, in->buf, in->cap);
    in->buf = NULL;
    in->cap = 0;
    in->fd = -1;
}

bind_fill bind_input_fill(bind_input *in)
{
    if (in->eof) return BIND_FILL_EOF;
    size_t unread = in->end - in->start;
    if (in->start > 0) {
        if (unread) memmove(in->buf, in->buf + in->start, unread);
        in->start = 0;
        in->end = unread;
    }
    if (unread >= in->max_record) return BIND_FILL_FULL;
    size_t want = in->chunk;
    if (unread + want > in->max_record) want = in->max_record - unread;
    if (want == 0) want = 1;
    if (!in->bom_checked && in->fd >= 0 && !in->live && want < 3) want = 3;
    if (in->end + want > in->cap) {
        size_t ncap = in->cap ? in->cap : 4096;
        while (ncap < in->end + want) ncap *= 2;
        char *nb = tw_realloc(&in->alloc, in->buf, in->cap, ncap);
        if (!nb) {
            in->nomem = true;
            return BIND_FILL_ERROR;
        }
        in->buf = nb;
        in->cap = ncap;
    }
    size_t got = 0;
    if (in->fd < 0) {
        if (!in->bom_checked) {
            /* A UTF-8 byte-order mark at the very start is not data. */
            in->bom_checked = true;
            if (in->mem_size >= 3 && in->mem[0] == 0xEF && in->mem[1] == 0xBB && in->mem[2] == 0xBF) in->mem_pos = 3;
        }
        size_t left = in->mem_size - in->mem_pos;
        got = left < want ? left : want;
        if (got) memcpy(in->buf + in->end, in->mem + in->mem_pos, got);
        in->mem_pos += got;
        if (got == 0) {
            in->eof = true;
            return BIND_FILL_EOF;
        }
        in->end += got;
        in->bytes += got;
        return BIND_FILL_MORE;
    }
    if (in->live) {
        struct pollfd p = { in->fd, POLLIN, 0 };
        int r;
        do r = poll(&p, 1, 0);
        while (r < 0 && errno == EINTR);
        if (r == 0) return BIND_FILL_WAIT;
    }
    /* The first fill of a blocking descriptor reads at least three bytes
     * (or to the end), so a byte-order mark is seen whole before any reader
     * scans the buffer. */
    size_t need = in->bom_checked || in->live ? 1 : 3;
    while (got < need) {
        ssize_t r;
        do r = read(in->fd, in->buf + in->end + got, want - got);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (got) break;
                return BIND_FILL_WAIT;
            }
            in->err = errno;
            return BIND_FILL_ERROR;
        }
        if (r == 0) {
            if (got) break;
            in->eof = true;
            return BIND_FILL_EOF;
        }
        got += (size_t)r;
    }
    if (!in->bom_checked) {
        in->bom_checked = true;
        if (got >= 3 && (unsigned char)in->buf[in->end] == 0xEF && (unsigned char)in->buf[in->end + 1] == 0xBB &&
            (unsigned char)in->buf[in->end + 2] == 0xBF) {
            memmove(in->buf + in->end, in->buf + in->end + 3, got - 3);
            got -= 3;
            in->bytes += 3;
            if (got == 0) return bind_input_fill(in);
        }
    }
    in->end += got;
    in->bytes += got;
    return BIND_FILL_MORE;
}
