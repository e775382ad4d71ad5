/* store-insert.c: SQLite's own cost for the DNS rows of a scan, per domain, outside mxsurvey.
 *
 *   cc -O2 -o /tmp/store-insert benchmarks/lab/store-insert.c -lsqlite3
 *   /tmp/store-insert SCHEMA.sql N [ROWS_PER_STATEMENT]
 *
 * Creates /tmp/store-insert.db with SCHEMA.sql (the store's settings: WAL, synchronous=NORMAL,
 * foreign keys on, 32 MiB cache) and inserts N domains `dI.bench.test`, each with one MX row
 * (host `mx(I*7919 % 1000).bench.test`), 2,000 domains per transaction, through prepared
 * statements as the store does. ROWS_PER_STATEMENT 1 (default): one INSERT per row, the
 * domain's id from sqlite3_last_insert_rowid; K > 1: multi-row INSERTs of K rows with ids
 * given explicitly (N must be a multiple of K and of 2,000 … of lcm). Prints CPU µs per
 * domain. The schema of a store: `sqlite3 STORE.db .schema | grep -v sqlite_sequence`.
 * docs/benchmarks.md §1 has the figures. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc(n + 1);
    if (fread(b, 1, n, f) != (size_t)n) { perror(path); exit(1); }
    b[n] = 0;
    fclose(f);
    return b;
}

static double cpu(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

static void check(sqlite3 *db, int rc, int want) {
    if (rc != want) { fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db)); exit(1); }
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s SCHEMA.sql N [ROWS_PER_STATEMENT]\n", argv[0]); return 2; }
    const char *path = "/tmp/store-insert.db";
    remove(path); remove("/tmp/store-insert.db-wal"); remove("/tmp/store-insert.db-shm");
    int n = atoi(argv[2]), k = argc > 3 ? atoi(argv[3]) : 1, batch = 2000;
    if (k < 1 || batch % k || n % batch) { fprintf(stderr, "N must be a multiple of 2000, 2000 of K\n"); return 2; }
    sqlite3 *db;
    check(db, sqlite3_open(path, &db), SQLITE_OK);
    char *err = 0;
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                     "PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=10000;", 0, 0, &err);
    if (sqlite3_exec(db, slurp(argv[1]), 0, 0, &err)) { fprintf(stderr, "%s\n", err); return 1; }
    sqlite3_exec(db, "INSERT INTO scans (started_at, command_line, tool_version, options) VALUES ('t', 'c', 'v', '{}')",
                 0, 0, 0);

    /* INSERT … VALUES (…), (…) … with k rows. */
    char *dsql = malloc(200 + 40 * k), *msql = malloc(100 + 20 * k);
    strcpy(dsql, k == 1 ? "INSERT INTO domains (scan_id, name, tag, rank, input_line, dns_status, dns_detail, "
                          "resolved_at) VALUES "
                        : "INSERT INTO domains (id, scan_id, name, tag, rank, input_line, dns_status, dns_detail, "
                          "resolved_at) VALUES ");
    strcpy(msql, "INSERT OR IGNORE INTO mx (domain_id, host, preference, implicit) VALUES ");
    for (int r = 0; r < k; r++) {
        strcat(dsql, r ? "," : "");
        strcat(dsql, k == 1 ? "(?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?)");
        strcat(msql, r ? ",(?,?,?,?)" : "(?,?,?,?)");
    }
    strcat(dsql, " ON CONFLICT (scan_id, name) DO NOTHING");

    double start = cpu();
    sqlite3_int64 next = 1;
    for (int b = 0; b < n; b += batch) {
        sqlite3_stmt *d, *m;
        sqlite3_exec(db, "BEGIN", 0, 0, 0);
        check(db, sqlite3_prepare_v2(db, dsql, -1, &d, 0), SQLITE_OK);
        check(db, sqlite3_prepare_v2(db, msql, -1, &m, 0), SQLITE_OK);
        for (int c = b; c < b + batch; c += k) {
            sqlite3_int64 ids[k];
            for (int r = 0; r < k; r++) {
                int i = c + r, o = k == 1 ? 0 : r * 9 + 1;
                char name[64];
                int len = snprintf(name, sizeof name, "d%d.bench.test", i);
                if (k > 1) sqlite3_bind_int64(d, o, next + r);
                sqlite3_bind_int64(d, o + 1, 1);
                sqlite3_bind_text(d, o + 2, name, len, SQLITE_TRANSIENT);
                sqlite3_bind_null(d, o + 3);
                sqlite3_bind_null(d, o + 4);
                sqlite3_bind_int64(d, o + 5, i + 1);
                sqlite3_bind_text(d, o + 6, "ok", 2, SQLITE_STATIC);
                sqlite3_bind_null(d, o + 7);
                sqlite3_bind_text(d, o + 8, "2026-11-27T12:34:11", 19, SQLITE_STATIC);
                if (k == 1) {
                    check(db, sqlite3_step(d), SQLITE_DONE);
                    sqlite3_reset(d);
                    ids[0] = sqlite3_last_insert_rowid(db);
                } else {
                    ids[r] = next + r;
                }
            }
            if (k > 1) {
                check(db, sqlite3_step(d), SQLITE_DONE);
                sqlite3_reset(d);
                next += k;
            }
            for (int r = 0; r < k; r++) {
                int i = c + r, o = r * 4;
                char host[64];
                int len = snprintf(host, sizeof host, "mx%d.bench.test", (i * 7919) % 1000);
                sqlite3_bind_int64(m, o + 1, ids[r]);
                sqlite3_bind_text(m, o + 2, host, len, SQLITE_TRANSIENT);
                sqlite3_bind_int64(m, o + 3, 10);
                sqlite3_bind_int64(m, o + 4, 0);
            }
            check(db, sqlite3_step(m), SQLITE_DONE);
            sqlite3_reset(m);
        }
        sqlite3_finalize(d);
        sqlite3_finalize(m);
        sqlite3_exec(db, "COMMIT", 0, 0, 0);
    }
    printf("%s, %d domains, %d rows per statement: %.2f us CPU per domain\n", argv[1], n, k,
           (cpu() - start) / n * 1e6);
    sqlite3_close(db);
    return 0;
}
