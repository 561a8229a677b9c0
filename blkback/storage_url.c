/* Remote storage URL parsing: see storage_url.h. Everything here is a pure
 * function of its input, so that the unit tests can cover every error. */
#include "storage_url.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ISCSI_DEFAULT_PORT 3260
#define ISCSI_MAX_LUN      16383 /* the flat space addressing libiscsi uses */

static const char iscsi_prefix[] = "iscsi://";
static const char nfs_prefix[] = "nfs://";

enum pv_url_scheme pv_url_scheme(const char *params)
{
    if (!params)
        return PV_URL_NONE;
    if (!strncasecmp(params, iscsi_prefix, strlen(iscsi_prefix)))
        return PV_URL_ISCSI;
    if (!strncasecmp(params, nfs_prefix, strlen(nfs_prefix)))
        return PV_URL_NFS;
    return PV_URL_NONE;
}

/* Copies [s, s+n) into dst (size dstlen) as a string; false if it does not fit. */
static bool copy_part(char *dst, size_t dstlen, const char *s, size_t n)
{
    if (n >= dstlen)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* A decimal number in [s, s+n) no larger than max; no sign, no spaces. */
static bool parse_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (n == 0 || n > 10)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool host_char_ok(char c, bool bracketed)
{
    if (isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_')
        return true;
    return bracketed && (c == ':' || c == '%');
}

/* host[:port] or [v6]:port in [s, s+n). */
static int parse_hostport(const char *s, size_t n, char *host, uint16_t *port, const char *what,
                          char *err, size_t errlen)
{
    const char *h = s, *end = s + n, *colon;
    size_t hn;
    bool bracketed = n > 0 && s[0] == '[';

    if (bracketed) {
        const char *close = memchr(s, ']', n);
        if (!close) {
            snprintf(err, errlen, "%s: unterminated '[' in the host", what);
            return -1;
        }
        h = s + 1;
        hn = (size_t)(close - h);
        colon = close + 1 < end ? close + 1 : NULL;
        if (colon && *colon != ':') {
            snprintf(err, errlen, "%s: unexpected characters after ']' in the host", what);
            return -1;
        }
    } else {
        colon = memchr(s, ':', n);
        hn = colon ? (size_t)(colon - s) : n;
    }
    if (hn == 0) {
        snprintf(err, errlen, "%s: the host is missing", what);
        return -1;
    }
    for (size_t i = 0; i < hn; i++) {
        if (!host_char_ok(h[i], bracketed)) {
            snprintf(err, errlen, "%s: invalid character '%c' in the host", what,
                     isprint((unsigned char)h[i]) ? h[i] : '?');
            return -1;
        }
    }
    if (!copy_part(host, PV_URL_HOST_MAX, h, hn)) {
        snprintf(err, errlen, "%s: the host is longer than %d bytes", what, PV_URL_HOST_MAX - 1);
        return -1;
    }
    if (colon) {
        unsigned long p;
        if (!parse_uint(colon + 1, (size_t)(end - colon - 1), 65535, &p) || p == 0) {
            snprintf(err, errlen, "%s: invalid port '%.*s' (expected 1-65535)", what,
                     (int)(end - colon - 1), colon + 1);
            return -1;
        }
        *port = (uint16_t)p;
    }
    return 0;
}

int pv_iscsi_url_parse(const char *url, struct pv_iscsi_url *out, char *err, size_t errlen)
{
    const char *what = "iSCSI URL";
    memset(out, 0, sizeof(*out));
    out->port = ISCSI_DEFAULT_PORT;

    if (pv_url_scheme(url) != PV_URL_ISCSI) {
        snprintf(err, errlen, "%s: does not start with iscsi://", what);
        return -1;
    }
    const char *auth = url + strlen(iscsi_prefix);
    const char *slash = strchr(auth, '/');
    if (!slash) {
        snprintf(err, errlen, "%s: expected iscsi://host[:port]/target-iqn/lun", what);
        return -1;
    }
    if (strpbrk(url, "?#")) {
        snprintf(err, errlen, "%s: query and fragment parts are not supported", what);
        return -1;
    }
    /* The last '@' ends the credentials: a password may contain '@'. */
    const char *at = NULL;
    for (const char *p = auth; p < slash; p++)
        if (*p == '@')
            at = p;
    if (at) {
        const char *pct = memchr(auth, '%', (size_t)(at - auth));
        size_t un = pct ? (size_t)(pct - auth) : (size_t)(at - auth);
        if (un == 0) {
            snprintf(err, errlen, "%s: the user name before '@' is empty", what);
            return -1;
        }
        if (!copy_part(out->user, sizeof(out->user), auth, un) ||
            (pct &&
             !copy_part(out->password, sizeof(out->password), pct + 1, (size_t)(at - pct - 1)))) {
            snprintf(err, errlen, "%s: the credentials are longer than %d bytes", what,
                     PV_URL_CRED_MAX - 1);
            return -1;
        }
        if (pct && !out->password[0]) {
            snprintf(err, errlen, "%s: the password after '%%' is empty", what);
            return -1;
        }
        auth = at + 1;
    }
    if (parse_hostport(auth, (size_t)(slash - auth), out->host, &out->port, what, err, errlen))
        return -1;

    const char *target = slash + 1;
    const char *last = strrchr(target, '/');
    if (!last || last == target) {
        snprintf(err, errlen, "%s: expected /target-iqn/lun after the host", what);
        return -1;
    }
    size_t tn = (size_t)(last - target);
    for (size_t i = 0; i < tn; i++) {
        unsigned char c = (unsigned char)target[i];
        if (!isalnum(c) && c != '.' && c != '-' && c != ':' && c != '_') {
            snprintf(err, errlen, "%s: invalid character '%c' in the target name", what,
                     isprint(c) ? c : '?');
            return -1;
        }
    }
    if (!copy_part(out->target, sizeof(out->target), target, tn)) {
        snprintf(err, errlen, "%s: the target name is longer than %d bytes", what,
                 PV_URL_TARGET_MAX - 1);
        return -1;
    }
    unsigned long lun;
    if (!parse_uint(last + 1, strlen(last + 1), ISCSI_MAX_LUN, &lun)) {
        snprintf(err, errlen, "%s: invalid LUN '%s' (expected a number 0-%d)", what, last + 1,
                 ISCSI_MAX_LUN);
        return -1;
    }
    out->lun = (uint32_t)lun;
    return 0;
}

int pv_nfs_url_parse(const char *url, struct pv_nfs_url *out, char *err, size_t errlen)
{
    const char *what = "NFS URL";
    memset(out, 0, sizeof(*out));
    out->version = 3;

    if (pv_url_scheme(url) != PV_URL_NFS) {
        snprintf(err, errlen, "%s: does not start with nfs://", what);
        return -1;
    }
    const char *auth = url + strlen(nfs_prefix);
    const char *slash = strchr(auth, '/');
    if (!slash) {
        snprintf(err, errlen, "%s: expected nfs://server[:port]/path/image", what);
        return -1;
    }
    if (memchr(auth, '@', (size_t)(slash - auth))) {
        snprintf(err, errlen, "%s: credentials are not supported", what);
        return -1;
    }
    if (parse_hostport(auth, (size_t)(slash - auth), out->host, &out->port, what, err, errlen))
        return -1;
    if (strchr(slash, '#')) {
        snprintf(err, errlen, "%s: a fragment is not supported", what);
        return -1;
    }
    const char *query = strchr(slash, '?');
    size_t pn = query ? (size_t)(query - slash) : strlen(slash);
    if (!copy_part(out->path, sizeof(out->path), slash, pn)) {
        snprintf(err, errlen, "%s: the path is longer than %d bytes", what, PV_URL_PATH_MAX - 1);
        return -1;
    }
    /* Each component must be a name: no empty ones, no "." or "..". */
    for (const char *c = out->path; *c == '/';) {
        const char *next = strchr(c + 1, '/');
        size_t cn = next ? (size_t)(next - c - 1) : strlen(c + 1);
        if (cn == 0 || (cn == 1 && c[1] == '.') || (cn == 2 && c[1] == '.' && c[2] == '.')) {
            snprintf(err, errlen, "%s: path '%s' has an empty, '.' or '..' component", what,
                     out->path);
            return -1;
        }
        if (!next)
            break;
        c = next;
    }
    const char *base = strrchr(out->path, '/');
    copy_part(out->dir, sizeof(out->dir), out->path,
              base == out->path ? 1 : (size_t)(base - out->path));
    copy_part(out->file, sizeof(out->file), base + 1, strlen(base + 1));

    if (query) {
        const char *q = query + 1;
        if (!strcmp(q, "version=3")) {
            out->version = 3;
        } else if (!strcmp(q, "version=4")) {
            out->version = 4;
        } else {
            snprintf(err, errlen, "%s: unsupported query '%s' (only version=3 or version=4)", what,
                     q);
            return -1;
        }
    }
    return 0;
}

void pv_url_redact(const char *url, char *buf, size_t buflen)
{
    if (!buflen)
        return;
    const char *auth = url;
    enum pv_url_scheme sch = pv_url_scheme(url);
    if (sch == PV_URL_ISCSI)
        auth += strlen(iscsi_prefix);
    else if (sch == PV_URL_NFS)
        auth += strlen(nfs_prefix);
    const char *slash = strchr(auth, '/');
    const char *end = slash ? slash : auth + strlen(auth);
    const char *at = NULL, *pct;
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (sch == PV_URL_NONE || !at || !(pct = memchr(auth, '%', (size_t)(at - auth)))) {
        snprintf(buf, buflen, "%s", url);
        return;
    }
    snprintf(buf, buflen, "%.*s***%s", (int)(pct + 1 - url), url, at);
}
