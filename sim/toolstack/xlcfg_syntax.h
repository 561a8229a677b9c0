/* The syntax of xl configuration files (libxlu's grammar, see xl.cfg(5)):
 * statements `key = value` (or `key += value`) separated by newlines or ';',
 * a value is a "string", a 'string', a number, or a list [ value, ... ] that
 * may span lines and end with a comma; '#' starts a comment. This layer only
 * splits the text into statements; xlcfg.c gives the keys their meaning. */
#ifndef XENSIM_XLCFG_SYNTAX_H
#define XENSIM_XLCFG_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

struct xl_item {
    char *text; /* dequoted string or number, malloc'd */
    int line;   /* the line it starts on */
};

struct xl_stmt {
    char key[64];
    bool append;           /* `+=` */
    bool is_list;          /* [ ... ] */
    bool quoted;           /* a single string value was quoted */
    size_t nitems;         /* 1 for a single value */
    struct xl_item *items; /* malloc'd */
    int line;              /* the line the statement starts on */
};

struct xl_lexer {
    const char *text;
    const char *p;
    int line;
};

void xl_lexer_init(struct xl_lexer *lx, const char *text);
/* Reads the next statement. Returns 1 and fills st (free it with
 * xl_stmt_free), 0 at the end of the text, or -1 with a message in err that
 * quotes the offending line. */
int xl_next_stmt(struct xl_lexer *lx, struct xl_stmt *st, char *err, size_t errlen);
void xl_stmt_free(struct xl_stmt *st);

/* For quoting user input in messages: "'%.*s%s'" with XL_CLIP(s) prints at
 * most XL_CLIP_MAX characters of s, and "..." when it had more. */
#define XL_CLIP_MAX 80
#define XL_CLIP(s)                                                                                 \
    (int)(strlen(s) > XL_CLIP_MAX ? XL_CLIP_MAX : strlen(s)), (s),                                 \
        (strlen(s) > XL_CLIP_MAX ? "..." : "")

/* Copies line number `line` (1-based) of text into buf, trimmed of leading
 * and trailing blanks and cut to fit. */
void xl_line_text(const char *text, int line, char *buf, size_t len);

#endif
