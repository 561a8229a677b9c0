/* Fuzzes the remote storage URLs of a disk's `params` key (blkback/
 * storage_url.h): iscsi://[user[%password]@]host[:port]/target/lun and
 * nfs://server[:port]/path[?version=N], as the toolstack writes them.
 *
 * Input: the URL.
 *
 * Invariants: a refusal has a message and the password is in no message;
 * an accepted URL has every field terminated, the scheme it was parsed as,
 * a host of host characters, a port (iSCSI) and LUN in range, an absolute
 * NFS path without empty, "." or ".." components that is its dir plus its
 * file, version 3 or 4; the redacted form hides the password. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "storage_url.h"

/* The part of url that pv_url_redact() hides, or "" (into pw). */
static void hidden_part(const char *url, char *pw, size_t pwlen)
{
    size_t n = strlen(url), rn, pre = 0, post = 0;
    char *red = malloc(n + 8);

    if (!red)
        abort();
    pv_url_redact(url, red, n + 8);
    rn = strlen(red);
    pw[0] = '\0';
    if (strcmp(red, url)) {
        while (pre < n && pre < rn && url[pre] == red[pre])
            pre++;
        while (post < n - pre && post < rn - pre && url[n - 1 - post] == red[rn - 1 - post])
            post++;
        size_t hn = n - pre - post;
        if (hn < pwlen) {
            memcpy(pw, url + pre, hn);
            pw[hn] = '\0';
        }
    }
    free(red);
}

/* The password must not show, where it is distinctive enough to tell. */
static void check_hidden(const char *url, const char *text, const char *pw)
{
    const char *first = strstr(url, pw);

    if (strlen(pw) < 4 || !first || strstr(first + 1, pw))
        return;
    FUZZ_CHECK(!strstr(text, pw), "the password '%s' shows in '%s'", pw, text);
}

static void check_host(const char *host)
{
    FUZZ_CHECK(host[0] != '\0' && !strpbrk(host, "[]/@?#"), "host '%s'", host);
}

static void check_iscsi(const char *url, const char *pw)
{
    static struct pv_iscsi_url u;
    char err[512] = "";

    if (pv_iscsi_url_parse(url, &u, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
        check_hidden(url, err, pw);
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
        char red[2048];
        pv_url_redact(url, red, sizeof(red));
        check_hidden(url, red, u.password);
    }
}

static void check_nfs(const char *url)
{
    static struct pv_nfs_url u;
    static char joined[2 * PV_URL_PATH_MAX];
    char err[512] = "";

    if (pv_nfs_url_parse(url, &u, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
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
    char *url = fuzz_rest_str(&in), pw[PV_URL_CRED_MAX];

    hidden_part(url, pw, sizeof(pw));
    /* Both parsers see every input: each must refuse the other's scheme. */
    check_iscsi(url, pw);
    check_nfs(url);
    free(url);
    return 0;
}
