/* See fuzz_input.h. */
#include "fuzz_input.h"

#include <string.h>

void fuzz_bytes(struct fuzz_in *in, void *dst, size_t n)
{
    size_t take = n < in->left ? n : in->left;

    memcpy(dst, in->p, take);
    memset((uint8_t *)dst + take, 0, n - take);
    in->p += take;
    in->left -= take;
}

uint8_t fuzz_u8(struct fuzz_in *in)
{
    uint8_t v;
    fuzz_bytes(in, &v, sizeof(v));
    return v;
}

uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t v;
    fuzz_bytes(in, &v, sizeof(v));
    return v;
}

uint32_t fuzz_u32(struct fuzz_in *in)
{
    uint32_t v;
    fuzz_bytes(in, &v, sizeof(v));
    return v;
}

uint64_t fuzz_u64(struct fuzz_in *in)
{
    uint64_t v;
    fuzz_bytes(in, &v, sizeof(v));
    return v;
}

bool fuzz_bool(struct fuzz_in *in)
{
    return fuzz_u8(in) & 1;
}

static char *take_str(struct fuzz_in *in, size_t len, size_t consumed)
{
    char *s = malloc(len + 1);

    if (!s)
        abort();
    memcpy(s, in->p, len);
    s[len] = '\0';
    in->p += consumed;
    in->left -= consumed;
    return s;
}

char *fuzz_str(struct fuzz_in *in)
{
    const uint8_t *nul = memchr(in->p, '\0', in->left);
    size_t len = nul ? (size_t)(nul - in->p) : in->left;

    return take_str(in, len, nul ? len + 1 : len);
}

char *fuzz_rest_str(struct fuzz_in *in)
{
    return take_str(in, in->left, in->left);
}
