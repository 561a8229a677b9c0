/* Fuzzes the remote storage URLs of a disk's `params` key (blkback/
 * storage_url.h): iscsi://[user[%password]@]host[:port]/target/lun and
 * nfs://server[:port]/path[?version=N], as the toolstack writes them.
 *
 * Input: the URL.
 *
 * Invariants: a refusal has a message and the password is in no message
 * (the same URL with another password gives the same message);
 * an accepted URL has every field terminated, the scheme it was parsed as,
 * a host of host characters, a port (iSCSI) and LUN in range, an absolute
 * NFS path without empty, "." or ".." components that is its dir plus its
 * file, version 3 or 4; the redacted form hides exactly the password. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "storage_url.h"

/* Where the password lies in a URL, by the syntax of storage_url.h:
 * SCHEME://user%password@host...: after the first '%' and before the last
 * '@' of the part up to the first '/'. *len is 0 when there is none. */
static void password_span(const char *url, size_t *off, size_t *len)
{
    const char *auth = strstr(url, "://"), *end, *at = NULL, *pct;

    *off = *len = 0;
    if (pv_url_scheme(url) == PV_URL_NONE || !auth)
        return;
    auth += 3;
    end = strchr(auth, '/');
    if (!end)
        end = auth + strlen(auth);
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (!at || !(pct = memchr(auth, '%', (size_t)(at - auth))))
        return;
    *off = (size_t)(pct + 1 - url);
    *len = (size_t)(at - pct - 1);
}

/* The redacted URL is the URL with the password, and only it, as "***". */
static void check_redact(const char *url)
{
    size_t off, len, n = strlen(url);
    char *red = malloc(n + 8), *want = malloc(n + 8);

    if (!red || !want)
        abort();
    pv_url_redact(url, red, n + 8);
    password_span(url, &off, &len);
    if (off)
        snprintf(want, n + 8, "%.*s***%s", (int)off, url, url + off + len);
    else
        snprintf(want, n + 8, "%s", url);
    FUZZ_CHECK(!strcmp(red, want), "'%s' redacted as '%s'", url, red);
    free(red);
    free(want);
}

/* url with its password changed letter by letter (digits and letters
 * shifted, every other byte kept, so that the URL parses the same way). */
static char *other_password(const char *url, size_t off, size_t len)
{
    char *u = strdup(url);

    if (!u)
        abort();
    for (size_t i = off; i < off + len; i++) {
        char c = u[i];
        if (c >= '0' && c <= '9')
            u[i] = (char)('0' + (c - '0' + 1) % 10);
        else if (c >= 'a' && c <= 'z')
            u[i] = (char)('a' + (c - 'a' + 1) % 26);
        else if (c >= 'A' && c <= 'Z')
            u[i] = (char)('A' + (c - 'A' + 1) % 26);
    }
    return u;
}

typedef int (*parse_fn)(const char *url, void *out, char *err, size_t errlen);

/* The password is in no message: with another password, the same one. */
static void check_message_hides(parse_fn parse, void *out, const char *url, const char *err)
{
    size_t off, len;
    char err2[512] = "";

    password_span(url, &off, &len);
    if (!len)
        return;
    char *url2 = other_password(url, off, len);
    FUZZ_CHECK(parse(url2, out, err2, sizeof(err2)) < 0 && !strcmp(err, err2),
               "the message depends on the password: '%s' vs '%s'", err, err2);
    free(url2);
}

static int parse_iscsi(const char *url, void *out, char *err, size_t errlen)
{
    return pv_iscsi_url_parse(url, out, err, errlen);
}

static int parse_nfs(const char *url, void *out, char *err, size_t errlen)
{
    return pv_nfs_url_parse(url, out, err, errlen);
}

static void check_host(const char *host)
{
    FUZZ_CHECK(host[0] != '\0' && !strpbrk(host, "[]/@?#"), "host '%s'", host);
}

static void check_iscsi(const char *url)
{
    static struct pv_iscsi_url u;
    char err[512] = "";

    if (pv_iscsi_url_parse(url, &u, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
        check_message_hides(parse_iscsi, &u, url, err);
        return;
    }
    FUZZ_CHECK(pv_url_scheme(url) == PV_URL_ISCSI, "an iSCSI URL of another scheme");
    FUZZ_CHECK_FIELD(u.host);
    FUZZ_CHECK_FIELD(u.target);
    FUZZ_CHECK_FIELD(u.user);
    FUZZ_CHECK_FIELD(u.password);
    check_host(u.host);
    FUZZ_CHECK(u.port != 0, "port 0");
    FUZZ_CHECK(u.target[0] && !strchr(u.target, '/'), "target '%s'", u.target);
    FUZZ_CHECK(u.lun <= 16383, "LUN %u", u.lun);
    FUZZ_CHECK(!u.password[0] || u.user[0], "a password without a user");
    if (u.password[0]) {
        size_t off, len;
        password_span(url, &off, &len);
        FUZZ_CHECK(len == strlen(u.password) && !strncmp(url + off, u.password, len),
                   "password '%s' parsed from '%s'", u.password, url);
    }
}

static void check_nfs(const char *url)
{
    static struct pv_nfs_url u;
    static char joined[2 * PV_URL_PATH_MAX];
    char err[512] = "";

    if (pv_nfs_url_parse(url, &u, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
        check_message_hides(parse_nfs, &u, url, err);
        return;
    }
    FUZZ_CHECK(pv_url_scheme(url) == PV_URL_NFS, "an NFS URL of another scheme");
    FUZZ_CHECK_FIELD(u.host);
    FUZZ_CHECK_FIELD(u.path);
    FUZZ_CHECK_FIELD(u.dir);
    FUZZ_CHECK_FIELD(u.file);
    check_host(u.host);
    FUZZ_CHECK(u.version == 3 || u.version == 4, "version %d", u.version);
    FUZZ_CHECK(u.path[0] == '/' && !strstr(u.path, "//") && !strstr(u.path, "/./") &&
                   !strstr(u.path, "/../"),
               "path '%s'", u.path);
    FUZZ_CHECK(u.file[0] && !strchr(u.file, '/') && strcmp(u.file, ".") && strcmp(u.file, ".."),
               "file '%s'", u.file);
    snprintf(joined, sizeof(joined), "%s%s%s", u.dir, strcmp(u.dir, "/") ? "/" : "", u.file);
    FUZZ_CHECK(!strcmp(joined, u.path), "dir '%s' + file '%s' is not path '%s'", u.dir, u.file,
               u.path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    char *url = fuzz_rest_str(&in);

    check_redact(url);
    /* Both parsers see every input: each must refuse the other's scheme. */
    check_iscsi(url);
    check_nfs(url);
    free(url);
    return 0;
}
