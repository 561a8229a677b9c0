/* Reading a fuzzer's input as a sequence of typed values. Every reader
 * returns zeros once the input is used up, so a target never has to check
 * lengths: a short input is simply a request with trailing zero bytes. */
#ifndef PVBACK_FUZZ_INPUT_H
#define PVBACK_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fuzz_in {
    const uint8_t *p;
    size_t left;
};

static inline struct fuzz_in fuzz_in_make(const uint8_t *data, size_t size)
{
    return (struct fuzz_in){.p = data, .left = size};
}

/* Copies up to n bytes into dst and zero-fills the rest. */
void fuzz_bytes(struct fuzz_in *in, void *dst, size_t n);
uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in);
uint32_t fuzz_u32(struct fuzz_in *in);
uint64_t fuzz_u64(struct fuzz_in *in);
bool fuzz_bool(struct fuzz_in *in);
/* The bytes up to the next NUL (consumed) or the end, as a malloc'd string. */
char *fuzz_str(struct fuzz_in *in);
/* The rest of the input as a malloc'd NUL-terminated string (embedded NULs
 * end it early, as they would for a C caller). */
char *fuzz_rest_str(struct fuzz_in *in);

/* An invariant that must hold: on failure, names it and aborts, which
 * libFuzzer reports as a crash and saves the input. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A fixed-size char field holds a NUL-terminated string. */
#define FUZZ_CHECK_FIELD(field)                                                                    \
    FUZZ_CHECK(memchr((field), '\0', sizeof(field)) != NULL, "%s is not terminated", #field)

/* An error message was written: non-empty, terminated within its buffer. */
#define FUZZ_CHECK_ERR(err)                                                                        \
    do {                                                                                           \
        FUZZ_CHECK_FIELD(err);                                                                     \
        FUZZ_CHECK((err)[0] != '\0', "failure without a message");                                 \
    } while (0)

#endif
