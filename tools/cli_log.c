/* `twin log`: inspect, dump, convert and repair replay logs (*.twlog). */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "twin/app.h"
#include "twin/clock.h"
#include "twin/replay.h"

static void log_usage(FILE *f)
{
    fprintf(f,
            "usage: twin log info LOG             span, records, sensors, keyframes, integrity\n"
            "       twin log dump LOG             every record as one line of text\n"
            "       twin log convert LOG --to csv|jsonl [--out FILE]\n"
            "                                     the telemetry samples as CSV (time,sensor,value,quality)\n"
            "                                     or JSON Lines, to stdout or FILE\n"
            "       twin log repair LOG           cut a torn or corrupt tail and close the log properly\n"
            "\n"
            "info and dump read every record and check its CRC32C. A log whose run crashed reads up to its\n"
            "last whole record; repair keeps exactly that part and adds the index. docs/log-format.md\n"
            "describes the format. Exit codes: 0 ok, 1 failed, 2 bad command line, 3 not a readable log.\n");
}

static int open_log(const char *cmd, const char *path, tw_replay_log **out)
{
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_replay_log_desc d = { .verify = 1 };
    tw_status st = tw_replay_log_open(path, &d, out, &diag);
    if (st) {
        fprintf(stderr, "twin log %s: ", cmd);
        cli_print_diag(&diag);
        return st == TW_ERR_NOMEM ? TW_EXIT_FAILURE : TW_EXIT_BAD_INPUT;
    }
    return TW_EXIT_OK;
}

static void print_time(FILE *f, const tw_replay_header *h, uint64_t tick)
{
    char when[40];
    tw_time_format_iso8601(h->start_time + (double)tick * h->dt, when, sizeof when);
    fprintf(f, "tick %" PRIu64 " (%s, t = %.1f s)", tick, when, (double)tick * h->dt);
}

static int cmd_info(const char *path)
{
    tw_replay_log *log;
    int rc = open_log("info", path, &log);
    if (rc) return rc;
    const tw_replay_header *h = tw_replay_log_header(log);
    const tw_replay_log_info *in = tw_replay_log_get_info(log);
    char created[40], start[40];
    tw_time_format_iso8601(h->created, created, sizeof created);
    tw_time_format_iso8601(h->start_time, start, sizeof start);
    printf("log:        %s (%" PRIu64 " bytes)\n", path, in->file_size);
    printf("format:     twlog %u, written by %s at %s\n", h->format_version, h->writer, created);
    printf("scene:      %s (scene hash %016" PRIx64 ", layout %016" PRIx64 ")\n", h->scene_name, h->scene_hash,
           h->layout_fingerprint);
    printf("simulation: dt %g s, seed %" PRIu64 ", start %s, keyframe every %u ticks (%g s)\n", h->dt, h->seed, start,
           h->keyframe_every, h->keyframe_every * h->dt);
    printf("span:       ");
    print_time(stdout, h, in->first_tick);
    printf(" to ");
    print_time(stdout, h, in->end_tick);
    printf("\nrecords:   ");
    for (uint32_t t = 1; t < TW_REPLAY_REC_TYPE_COUNT; t++)
        printf(" %s %" PRIu64 "%s", tw_replay_record_type_name(t), in->records[t], t + 1 < TW_REPLAY_REC_TYPE_COUNT ? "," : "\n");
    printf("samples:    %" PRIu64 " from %u sensors\n", in->samples, tw_replay_log_sensor_count(log));
    uint32_t nk = tw_replay_log_keyframe_count(log);
    printf("keyframes:  %u", nk);
    if (nk) {
        uint64_t a, b;
        tw_replay_log_keyframe_at(log, 0, &a, NULL);
        tw_replay_log_keyframe_at(log, nk - 1, &b, NULL);
        printf(" (ticks %" PRIu64 " to %" PRIu64 ")", a, b);
    }
    printf("\nintegrity:  ");
    switch (in->integrity) {
    case TW_REPLAY_INTACT: printf("OK\n"); break;
    case TW_REPLAY_UNCLOSED: printf("unclosed: every record whole, but no index (the run did not finish); twin log repair closes it\n"); break;
    case TW_REPLAY_TORN_TAIL:
        printf("torn tail of %" PRIu64 " bytes at offset %" PRIu64 " (%s); readable up to there, twin log repair cuts it\n",
               in->dropped_bytes, in->bad_offset, in->problem);
        break;
    case TW_REPLAY_CORRUPT:
        printf("corrupt record at offset %" PRIu64 ": %s; readable up to there (%" PRIu64 " bytes dropped), twin log repair cuts it\n",
               in->bad_offset, in->problem, in->dropped_bytes);
        break;
    }
    tw_replay_log_close(log);
    return TW_EXIT_OK;
}

static void print_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static int cmd_dump(const char *path)
{
    tw_replay_log *log;
    int rc = open_log("dump", path, &log);
    if (rc) return rc;
    const tw_replay_header *h = tw_replay_log_header(log);
    printf("%" PRIu64 " header scene=%s scene_hash=%016" PRIx64 " dt=%g seed=%" PRIu64 " start=%.17g keyframe_every=%u writer=\"%s\"\n",
           (uint64_t)12, h->scene_name, h->scene_hash, h->dt, h->seed, h->start_time, h->keyframe_every, h->writer);
    tw_replay_log_rewind(log, tw_replay_log_first(log));
    tw_replay_record rec;
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st;
    while ((st = tw_replay_log_next(log, &rec, &diag)) == TW_OK) {
        printf("%" PRIu64 " %s", rec.offset, tw_replay_record_type_name(rec.type));
        if (rec.has_tick) printf(" tick=%" PRIu64, rec.tick);
        switch (rec.type) {
        case TW_REPLAY_REC_SENSOR: {
            uint32_t id;
            memcpy(&id, rec.payload, 4);
            printf(" id=%u name=%s", id, tw_replay_log_sensor_name(log, id) ? tw_replay_log_sensor_name(log, id) : "?");
            break;
        }
        case TW_REPLAY_REC_INPUT: {
            tw_replay_input_iter it;
            tw_replay_sample s;
            tw_replay_input_begin(log, &rec, &it);
            printf(" n=%u", it.left);
            while (tw_replay_input_next(&it, &s) == 1)
                printf(" %s@%.17g=%.17g%s", s.sensor, s.time, s.value, s.quality ? (s.quality == 1 ? "?" : "!") : "");
            break;
        }
        case TW_REPLAY_REC_COMMAND: {
            tw_replay_command c;
            if (!tw_replay_command_decode(&rec, &c)) {
                if (c.op == TW_REPLAY_CMD_SET) printf(" set %s %s=%.17g", c.entity, c.field, c.value);
                else printf(" destroy %s", c.entity);
            }
            break;
        }
        case TW_REPLAY_REC_KEYFRAME: {
            tw_replay_keyframe kf;
            if (!tw_replay_keyframe_decode(&rec, &kf)) {
                printf(" state_hash=%016" PRIx64 " bytes=%u sections=", kf.state_hash, rec.size);
                for (uint32_t i = 0; i < kf.section_count; i++) {
                    uint32_t t = kf.sections[i].tag;
                    printf("%s%c%c%c%c:%zu", i ? "," : "", (char)(t & 0xFF), (char)(t >> 8 & 0xFF),
                           (char)(t >> 16 & 0xFF), (char)(t >> 24), kf.sections[i].size);
                }
            }
            break;
        }
        case TW_REPLAY_REC_EVENT: {
            tw_sim_event ev;
            if (!tw_replay_event_decode(&rec, &ev)) {
                static const char *const states[] = { "normal", "pending", "active" };
                printf(" time=%.1f alarm=#%u target=#%u value=%g state=%s", ev.time, tw_entity_index(ev.alarm),
                       tw_entity_index(ev.target), ev.value, ev.state >= 0 && ev.state <= 2 ? states[ev.state] : "?");
            }
            break;
        }
        case TW_REPLAY_REC_INDEX: printf(" bytes=%u", rec.size); break;
        case TW_REPLAY_REC_END: {
            uint64_t ix;
            memcpy(&ix, rec.payload, 8);
            printf(" index_offset=%" PRIu64, ix);
            break;
        }
        default: break;
        }
        putchar('\n');
    }
    const tw_replay_log_info *in = tw_replay_log_get_info(log);
    if (in->integrity == TW_REPLAY_TORN_TAIL || in->integrity == TW_REPLAY_CORRUPT)
        printf("%" PRIu64 " %s %s (%" PRIu64 " bytes not shown)\n", in->bad_offset,
               in->integrity == TW_REPLAY_TORN_TAIL ? "torn" : "corrupt", in->problem, in->dropped_bytes);
    tw_replay_log_close(log);
    if (st != TW_ERR_NOT_FOUND) {
        cli_print_diag(&diag);
        return TW_EXIT_FAILURE;
    }
    return TW_EXIT_OK;
}

static int cmd_convert(int argc, char **argv)
{
    const char *path = NULL, *to = NULL, *out_path = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--to") && i + 1 < argc) to = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out_path = argv[++i];
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else {
            fprintf(stderr, "twin log convert: unexpected \"%s\"\n", argv[i]);
            return TW_EXIT_USAGE;
        }
    }
    int jsonl = to && !strcmp(to, "jsonl");
    if (!path || !to || (!jsonl && strcmp(to, "csv"))) {
        fprintf(stderr, "twin log convert: needs LOG and --to csv or --to jsonl\n");
        return TW_EXIT_USAGE;
    }
    tw_replay_log *log;
    int rc = open_log("convert", path, &log);
    if (rc) return rc;
    FILE *f = out_path ? fopen(out_path, "w") : stdout;
    if (!f) {
        fprintf(stderr, "twin log convert: cannot create %s\n", out_path);
        tw_replay_log_close(log);
        return TW_EXIT_FAILURE;
    }
    static const char *const quality[] = { "good", "uncertain", "bad" };
    if (!jsonl) fputs("time,sensor,value,quality\n", f);
    tw_replay_log_rewind(log, tw_replay_log_first(log));
    tw_replay_record rec;
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st;
    uint64_t n = 0;
    while ((st = tw_replay_log_next(log, &rec, &diag)) == TW_OK) {
        if (rec.type != TW_REPLAY_REC_INPUT) continue;
        tw_replay_input_iter it;
        tw_replay_sample s;
        tw_replay_input_begin(log, &rec, &it);
        while (tw_replay_input_next(&it, &s) == 1) {
            char when[40];
            tw_time_format_iso8601(s.time, when, sizeof when);
            const char *q = s.quality < 3 ? quality[s.quality] : "bad";
            if (jsonl) {
                fprintf(f, "{\"time\":\"%s\",\"sensor\":", when);
                print_json_string(f, s.sensor);
                fprintf(f, ",\"value\":%.17g,\"quality\":\"%s\"}\n", s.value, q);
            } else {
                fprintf(f, "%s,%s,%.17g,%s\n", when, s.sensor, s.value, q);
            }
            n++;
        }
    }
    int bad = ferror(f) != 0;
    if (out_path && fclose(f) != 0) bad = 1;
    tw_replay_log_close(log);
    if (st != TW_ERR_NOT_FOUND) {
        cli_print_diag(&diag);
        return TW_EXIT_FAILURE;
    }
    if (bad) {
        fprintf(stderr, "twin log convert: writing failed\n");
        return TW_EXIT_FAILURE;
    }
    fprintf(stderr, "twin log convert: %" PRIu64 " samples\n", n);
    return TW_EXIT_OK;
}

static int cmd_repair(const char *path)
{
    tw_replay_repair_result r;
    tw_diag diag;
    tw_diag_clear(&diag);
    tw_status st = tw_replay_log_repair(path, NULL, &r, &diag);
    if (st) {
        fprintf(stderr, "twin log repair: ");
        cli_print_diag(&diag);
        return st == TW_ERR_INVALID || st == TW_ERR_UNSUPPORTED ? TW_EXIT_BAD_INPUT : TW_EXIT_FAILURE;
    }
    if (r.was_intact) printf("%s: intact, nothing to repair\n", path);
    else
        printf("%s: kept %" PRIu64 " bytes of whole records, cut %" PRIu64 " bytes, wrote the index\n", path,
               r.kept_bytes, r.dropped_bytes);
    return TW_EXIT_OK;
}

int cli_log(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        log_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? TW_EXIT_USAGE : TW_EXIT_OK;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "convert")) return cmd_convert(argc, argv);
    if (argc != 3 || argv[2][0] == '-') {
        if (argc >= 3 && !strcmp(argv[2], "--help")) {
            log_usage(stdout);
            return TW_EXIT_OK;
        }
        fprintf(stderr, "twin log %s: needs exactly one LOG\n", sub);
        log_usage(stderr);
        return TW_EXIT_USAGE;
    }
    if (!strcmp(sub, "info")) return cmd_info(argv[2]);
    if (!strcmp(sub, "dump")) return cmd_dump(argv[2]);
    if (!strcmp(sub, "repair")) return cmd_repair(argv[2]);
    fprintf(stderr, "twin log: unknown subcommand \"%s\" (info, dump, convert, repair)\n", sub);
    return TW_EXIT_USAGE;
}
