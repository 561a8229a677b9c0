/* pvback-ctl's parsing of status reports and its table (see ctl_report.h). */
#include "ctl_report.h"

#include <dirent.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "xs.h" /* pv_parse_u64, pv_parse_int */

int ctl_parse_run_file(const char *name, struct ctl_key *key, const char **ext)
{
    const char *dash = strrchr(name, '-'), *dot = strrchr(name, '.');
    char num[16];

    if (!dash || !dot || dot < dash || dash == name || (size_t)(dash - name) >= sizeof(key->kind))
        return -1;
    if (strcmp(dot + 1, "sock") && strcmp(dot + 1, "pid") && strcmp(dot + 1, "failed"))
        return -1;
    size_t nl = (size_t)(dot - dash - 1);
    if (nl == 0 || nl >= sizeof(num))
        return -1;
    memcpy(num, dash + 1, nl);
    num[nl] = '\0';
    if (!strcmp(num, "all"))
        key->domid = -1;
    else if (pv_parse_int(num, 0, 0x7fef, &key->domid) < 0)
        return -1;
    memcpy(key->kind, name, (size_t)(dash - name));
    key->kind[dash - name] = '\0';
    *ext = dot + 1;
    return 0;
}

void ctl_scan_run_dir(const char *dir,
                      bool (*cb)(const char *name, const struct ctl_key *key, const char *ext,
                                 void *arg),
                      void *arg)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        struct ctl_key key;
        const char *ext;
        if (ctl_parse_run_file(de->d_name, &key, &ext) == 0 && !cb(de->d_name, &key, ext, arg))
            break;
    }
    closedir(d);
}

struct ctl_proc *ctl_procs_get(struct ctl_procs *ps, const struct ctl_key *key)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->v[i].key.domid == key->domid && !strcmp(ps->v[i].key.kind, key->kind))
            return &ps->v[i];
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        struct ctl_proc *v = realloc(ps->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        ps->v = v;
        ps->cap = cap;
    }
    struct ctl_proc *p = &ps->v[ps->n++];
    memset(p, 0, sizeof(*p));
    p->key = *key;
    p->uid = -1;
    p->seccomp = -1;
    return p;
}

void ctl_procs_free(struct ctl_procs *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->v[i].failed);
        free(ps->v[i].devs);
    }
    free(ps->v);
    memset(ps, 0, sizeof(*ps));
}

/* The value of " key=" in a record line, copied into out; -1 if absent. */
static int field(const char *line, const char *key, char *out, size_t len)
{
    size_t kl = strlen(key);
    for (const char *p = line; (p = strchr(p, ' ')); p++) {
        if (!strncmp(p + 1, key, kl) && p[1 + kl] == '=') {
            const char *v = p + 2 + kl;
            size_t n = strcspn(v, " \n");
            if (n >= len)
                return -1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 0;
        }
    }
    return -1;
}

static int field_u64(const char *line, const char *key, uint64_t *out)
{
    char v[32];
    return field(line, key, v, sizeof(v)) < 0 ? -1 : pv_parse_u64(v, 0, UINT64_MAX, out);
}

static int field_state(const char *line, const char *key, int *out)
{
    char v[16];
    if (field(line, key, v, sizeof(v)) < 0)
        return -1;
    if (!strcmp(v, "-")) {
        *out = -1;
        return 0;
    }
    return pv_parse_int(v, 0, 255, out);
}

static int parse_process(struct ctl_proc *p, const char *line)
{
    uint64_t pid, uid, up;
    char v[8];
    int sc;
    if (field_u64(line, "pid", &pid) < 0 || field_u64(line, "uid", &uid) < 0 ||
        field_u64(line, "uptime", &up) < 0 || field(line, "seccomp", v, sizeof(v)) < 0 ||
        pv_parse_int(v, -1, 2, &sc) < 0)
        return -1;
    p->pid = (long)pid;
    p->uid = (long)uid;
    p->seccomp = sc;
    p->uptime = (unsigned long)up;
    return 0;
}

static int parse_device(struct ctl_proc *p, const char *line)
{
    struct ctl_dev d = {0};
    uint64_t rings;
    if (field(line, "name", d.name, sizeof(d.name)) < 0 ||
        field_state(line, "state", &d.state) < 0 ||
        field_state(line, "fe-state", &d.fe_state) < 0 || field_u64(line, "rings", &rings) < 0 ||
        field_u64(line, "requests", &d.requests) < 0 || field_u64(line, "bytes", &d.bytes) < 0 ||
        field_u64(line, "errors", &d.errors) < 0)
        return -1;
    d.rings = (unsigned)rings;
    struct ctl_dev *v = realloc(p->devs, (p->ndevs + 1) * sizeof(*v));
    if (!v)
        return -1;
    p->devs = v;
    p->devs[p->ndevs++] = d;
    return 0;
}

int ctl_parse_report(struct ctl_proc *p, const char *report)
{
    bool end = false;
    for (const char *line = report; *line && !end;) {
        size_t n = strcspn(line, "\n");
        if (!strncmp(line, "process ", 8)) {
            if (parse_process(p, line) < 0)
                return -1;
        } else if (!strncmp(line, "device ", 7)) {
            if (parse_device(p, line) < 0)
                return -1;
        } else if (n == 3 && !strncmp(line, "end", 3)) {
            end = true;
        } else {
            return -1;
        }
        line += n + (line[n] == '\n');
    }
    return end ? 0 : -1;
}

const char *ctl_state_name(int state)
{
    static const char *const names[] = {"Unknown",     "Initialising",  "InitWait",
                                        "Initialised", "Connected",     "Closing",
                                        "Closed",      "Reconfiguring", "Reconfigured"};
    if (state < 0)
        return "-";
    if ((size_t)state < sizeof(names) / sizeof(names[0]))
        return names[state];
    return "?";
}

static int by_domid_kind(const void *a, const void *b)
{
    const struct ctl_proc *x = a, *y = b;
    if (x->key.domid != y->key.domid)
        return x->key.domid < y->key.domid ? -1 : 1;
    return strcmp(x->key.kind, y->key.kind);
}

static const char *seccomp_name(int mode)
{
    switch (mode) {
    case 0:
        return "off";
    case 1:
        return "strict";
    case 2:
        return "filter";
    default:
        return "-";
    }
}

#define ROW "%-6s %-16s %-5s %-8s %-5s %-8s %-14s %-13s %-13s %5s %10s %12s %7s\n"

void ctl_print_status(FILE *out, struct ctl_procs *ps)
{
    if (ps->n == 0) {
        fprintf(out, "no pvback backends running\n");
        return;
    }
    qsort(ps->v, ps->n, sizeof(ps->v[0]), by_domid_kind);
    fprintf(out, ROW, "DOMID", "NAME", "KIND", "PID", "UID", "SECCOMP", "DEVICE", "STATE",
            "FRONTEND", "RINGS", "REQUESTS", "BYTES", "ERRORS");
    for (size_t i = 0; i < ps->n; i++) {
        const struct ctl_proc *p = &ps->v[i];
        char domid[12], pid[24] = "-", uid[24] = "-";
        if (p->key.domid < 0)
            snprintf(domid, sizeof(domid), "all");
        else
            snprintf(domid, sizeof(domid), "%d", p->key.domid);
        if (p->pid > 0)
            snprintf(pid, sizeof(pid), "%ld", p->pid);
        if (p->uid >= 0)
            snprintf(uid, sizeof(uid), "%ld", p->uid);
        const char *name = p->name[0] ? p->name : "-";
        /* What the process itself is, when it cannot list devices. */
        const char *proc_state = p->failed       ? "failed"
                                 : p->answered   ? NULL
                                 : p->denied     ? "permission-denied"
                                 : p->has_socket ? "not-answering"
                                                 : "no-status";
        if (proc_state || p->ndevs == 0)
            fprintf(out, ROW, domid, name, p->key.kind, pid, uid, seccomp_name(p->seccomp), "-",
                    proc_state ? proc_state : "running", "-", "-", "-", "-", "-");
        for (size_t j = 0; !proc_state && j < p->ndevs; j++) {
            const struct ctl_dev *d = &p->devs[j];
            char rings[12], req[24], bytes[24], errs[24];
            snprintf(rings, sizeof(rings), "%u", d->rings);
            snprintf(req, sizeof(req), "%" PRIu64, d->requests);
            snprintf(bytes, sizeof(bytes), "%" PRIu64, d->bytes);
            snprintf(errs, sizeof(errs), "%" PRIu64, d->errors);
            fprintf(out, ROW, domid, name, p->key.kind, pid, uid, seccomp_name(p->seccomp), d->name,
                    ctl_state_name(d->state), ctl_state_name(d->fe_state), rings, req, bytes, errs);
        }
        if (p->failed)
            fprintf(out, "       %s %s: %s\n", p->key.kind, domid, p->failed);
    }
}
