/* Splits an xl configuration text into statements (see xlcfg_syntax.h). */
#include "xlcfg_syntax.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xl_lexer_init(struct xl_lexer *lx, const char *text)
{
    lx->text = text;
    lx->p = text;
    lx->line = 1;
}

void xl_line_text(const char *text, int line, char *buf, size_t len)
{
    const char *p = text;
    for (int l = 1; l < line && *p; p++) {
        if (*p == '\n')
            l++;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "\n");
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        n--;
    if (len == 0)
        return;
    if (n >= len)
        n = len - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

static void syntax_error(const struct xl_lexer *lx, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void syntax_error(const struct xl_lexer *lx, char *err, size_t errlen, const char *fmt, ...)
{
    char line[128], msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    xl_line_text(lx->text, lx->line, line, sizeof(line));
    snprintf(err, errlen, "line %d: '%s': %s", lx->line, line, msg);
}

/* Skips blanks and comments; newlines too when `newlines` (inside a list, or
 * between statements). */
static void skip_space(struct xl_lexer *lx, bool newlines)
{
    for (;;) {
        char c = *lx->p;
        if (c == ' ' || c == '\t' || c == '\r') {
            lx->p++;
        } else if (c == '\n' && newlines) {
            lx->p++;
            lx->line++;
        } else if (c == '#') {
            lx->p += strcspn(lx->p, "\n");
        } else {
            return;
        }
    }
}

/* Reads a quoted string with libxlu's escapes into a malloc'd buffer. */
static char *read_string(struct xl_lexer *lx, char *err, size_t errlen)
{
    char quote = *lx->p++;
    const char *start = lx->p;
    size_t cap = strcspn(start, "\n") + 1;
    char *out = malloc(cap);
    size_t n = 0;
    if (!out) {
        syntax_error(lx, err, errlen, "out of memory");
        return NULL;
    }
    for (;;) {
        char c = *lx->p;
        if (c == '\0' || c == '\n') {
            syntax_error(lx, err, errlen, "unterminated string");
            free(out);
            return NULL;
        }
        lx->p++;
        if (c == quote)
            break;
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        c = *lx->p++;
        switch (c) {
        case 'n':
            out[n++] = '\n';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case '\\':
        case '"':
        case '\'':
            out[n++] = c;
            break;
        case 'x':
            if (isxdigit((unsigned char)lx->p[0]) && isxdigit((unsigned char)lx->p[1])) {
                char hex[3] = {lx->p[0], lx->p[1], 0};
                out[n++] = (char)strtol(hex, NULL, 16);
                lx->p += 2;
                break;
            }
            /* fall through */
        default:
            lx->p--;
            syntax_error(lx, err, errlen, "bad escape '\\%c' in a string", c ? c : ' ');
            free(out);
            return NULL;
        }
    }
    out[n] = '\0';
    if (memchr(out, '\0', n)) {
        syntax_error(lx, err, errlen, "a string may not contain a NUL byte");
        free(out);
        return NULL;
    }
    return out;
}

/* A bare atom: a number (decimal, 0x hex, with a fraction or a sign); the key
 * that uses it decides whether it makes sense. */
static char *read_number(struct xl_lexer *lx, char *err, size_t errlen)
{
    const char *start = lx->p;
    if (*lx->p == '-' || *lx->p == '+')
        lx->p++;
    while (isalnum((unsigned char)*lx->p) || *lx->p == '.')
        lx->p++;
    char *out = strndup(start, (size_t)(lx->p - start));
    if (!out)
        syntax_error(lx, err, errlen, "out of memory");
    return out;
}

static int read_atom(struct xl_lexer *lx, struct xl_item *item, bool *quoted, char *err,
                     size_t errlen)
{
    char c = *lx->p;
    item->line = lx->line;
    if (c == '"' || c == '\'') {
        *quoted = true;
        item->text = read_string(lx, err, errlen);
    } else if (isdigit((unsigned char)c) || c == '-' || c == '+') {
        *quoted = false;
        item->text = read_number(lx, err, errlen);
    } else {
        if (c == '\0' || c == '\n' || c == ';')
            syntax_error(lx, err, errlen, "missing value");
        else
            syntax_error(lx, err, errlen,
                         "unexpected '%c': a value is a \"string\", a number or a [ list ]", c);
        return -1;
    }
    return item->text ? 0 : -1;
}

static int add_item(struct xl_stmt *st, size_t *cap, struct xl_lexer *lx, bool *quoted, char *err,
                    size_t errlen)
{
    if (st->nitems == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct xl_item *n = realloc(st->items, ncap * sizeof(*n));
        if (!n) {
            syntax_error(lx, err, errlen, "out of memory");
            return -1;
        }
        st->items = n;
        *cap = ncap;
    }
    struct xl_item *it = &st->items[st->nitems];
    if (read_atom(lx, it, quoted, err, errlen) < 0)
        return -1;
    st->nitems++;
    return 0;
}

static int read_list(struct xl_lexer *lx, struct xl_stmt *st, char *err, size_t errlen)
{
    size_t cap = 0;
    lx->p++; /* '[' */
    st->is_list = true;
    for (;;) {
        skip_space(lx, true);
        if (*lx->p == ']') {
            lx->p++;
            return 0;
        }
        if (*lx->p == '\0') {
            syntax_error(lx, err, errlen, "list not closed with ']'");
            return -1;
        }
        if (*lx->p == '[') {
            syntax_error(lx, err, errlen, "nested lists are not supported");
            return -1;
        }
        bool quoted;
        if (add_item(st, &cap, lx, &quoted, err, errlen) < 0)
            return -1;
        skip_space(lx, true);
        if (*lx->p == ',') {
            lx->p++;
        } else if (*lx->p != ']') {
            if (*lx->p == '\0')
                syntax_error(lx, err, errlen, "list not closed with ']'");
            else
                syntax_error(lx, err, errlen, "expected ',' or ']' in a list, found '%c'", *lx->p);
            return -1;
        }
    }
}

void xl_stmt_free(struct xl_stmt *st)
{
    for (size_t i = 0; i < st->nitems; i++)
        free(st->items[i].text);
    free(st->items);
    memset(st, 0, sizeof(*st));
}

int xl_next_stmt(struct xl_lexer *lx, struct xl_stmt *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    for (;;) {
        skip_space(lx, true);
        if (*lx->p != ';')
            break;
        lx->p++;
    }
    if (*lx->p == '\0')
        return 0;
    st->line = lx->line;

    const char *k = lx->p;
    if (!isalpha((unsigned char)*k) && *k != '_') {
        syntax_error(lx, err, errlen, "expected a key name, found '%c'", *k);
        return -1;
    }
    while (isalnum((unsigned char)*lx->p) || *lx->p == '_')
        lx->p++;
    size_t klen = (size_t)(lx->p - k);
    if (klen >= sizeof(st->key)) {
        syntax_error(lx, err, errlen, "key name too long");
        return -1;
    }
    memcpy(st->key, k, klen);
    st->key[klen] = '\0';

    skip_space(lx, false);
    if (lx->p[0] == '+' && lx->p[1] == '=') {
        st->append = true;
        lx->p += 2;
    } else if (lx->p[0] == '=') {
        lx->p++;
    } else {
        syntax_error(lx, err, errlen, "%s: expected '=' after the key", st->key);
        return -1;
    }
    skip_space(lx, false);

    int rc;
    if (*lx->p == '[') {
        rc = read_list(lx, st, err, errlen);
    } else {
        size_t cap = 0;
        rc = add_item(st, &cap, lx, &st->quoted, err, errlen);
    }
    if (rc < 0) {
        xl_stmt_free(st);
        return -1;
    }
    skip_space(lx, false);
    if (*lx->p == ';' || *lx->p == '\n') {
        lx->p++;
        if (lx->p[-1] == '\n')
            lx->line++;
    } else if (*lx->p != '\0') {
        syntax_error(lx, err, errlen, "%s: unexpected '%c' after the value", st->key, *lx->p);
        xl_stmt_free(st);
        return -1;
    }
    return 1;
}
