/* Fuzzes the strict number parsing every backend applies to xenstore values
 * (common/xs.h: pv_parse_u64, pv_parse_int), the value quoting of its error
 * messages (pv_xs_show_value) and path joining (pv_xs_join). Guests write
 * many of the keys these read (ring-ref, event-channel, state, ...).
 *
 * Input: a bounds byte, then a NUL-terminated value, then a key.
 *
 * Invariants: a number is accepted exactly when it is plain decimal digits
 * (with one leading '-' for an int) whose value lies within the bounds, and
 * then it is that value; a refusal says EINVAL for not a number and ERANGE
 * for out of bounds; a shown value is short, printable and terminated; a
 * join fits its buffer or says ENAMETOOLONG. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "xs.h"

/* The reference reading: digits only, value by long arithmetic. */
static bool model_u64(const char *s, unsigned __int128 *v)
{
    *v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        *v = *v * 10 + (unsigned)(*s - '0');
        if (*v > (unsigned __int128)UINT64_MAX * 10)
            *v = (unsigned __int128)UINT64_MAX * 10; /* saturate: too big anyway */
    }
    return true;
}

static void check_u64(const char *s, uint64_t min, uint64_t max)
{
    unsigned __int128 want;
    bool number = model_u64(s, &want);
    uint64_t got = 0xdeadbeef;

    errno = 0;
    int rc = pv_parse_u64(s, min, max, &got);
    if (number && want >= min && want <= max) {
        FUZZ_CHECK(rc == 0 && got == (uint64_t)want, "'%s' in [%llu,%llu] refused or misread", s,
                   (unsigned long long)min, (unsigned long long)max);
    } else {
        FUZZ_CHECK(rc == -1 && got == 0xdeadbeef, "'%s' accepted in [%llu,%llu]", s,
                   (unsigned long long)min, (unsigned long long)max);
        FUZZ_CHECK(errno == (number ? ERANGE : EINVAL), "'%s': errno %d", s, errno);
    }
}

static void check_int(const char *s, int min, int max)
{
    bool neg = s[0] == '-';
    unsigned __int128 mag;
    bool number = model_u64(neg ? s + 1 : s, &mag);
    __int128 want = neg ? -(__int128)mag : (__int128)mag;
    int got = 0x5a5a;

    errno = 0;
    int rc = pv_parse_int(s, min, max, &got);
    if (number && want >= min && want <= max) {
        FUZZ_CHECK(rc == 0 && got == (int)want, "'%s' in [%d,%d] refused or misread", s, min, max);
    } else {
        FUZZ_CHECK(rc == -1 && got == 0x5a5a, "'%s' accepted in [%d,%d]", s, min, max);
        FUZZ_CHECK(errno == (number ? ERANGE : EINVAL), "'%s': errno %d", s, errno);
    }
}

/* At most 64 bytes of the value, unprintable ones as '?', "..." when cut. */
static void check_show(const char *value)
{
    char out[PV_XS_SHOWN_MAX + 16];
    size_t vlen = strlen(value), shown = vlen > 64 ? 64 : vlen;

    memset(out, 0x7f, sizeof(out));
    pv_xs_show_value(out, value);
    size_t n = strnlen(out, sizeof(out));
    FUZZ_CHECK(n < PV_XS_SHOWN_MAX && n == shown + (vlen > 64 ? 3 : 0),
               "%zu-byte value shown in %zu bytes", vlen, n);
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)value[i];
        FUZZ_CHECK(out[i] == ((c >= ' ' && c <= '~') ? value[i] : '?'),
                   "byte %zu (0x%02x) shown as 0x%02x", i, c, (unsigned char)out[i]);
    }
    FUZZ_CHECK(vlen <= 64 || !strcmp(out + 64, "..."), "a cut value without '...'");
}

static void check_join(const char *dir, const char *key, size_t len)
{
    char buf[64];
    size_t want = strlen(dir) + (key[0] ? 1 + strlen(key) : 0);

    errno = 0;
    int rc = pv_xs_join(buf, len, dir, key);
    if (want < len) {
        FUZZ_CHECK(rc == 0 && strlen(buf) == want && !strncmp(buf, dir, strlen(dir)),
                   "join of '%s' and '%s' into %zu bytes", dir, key, len);
    } else {
        FUZZ_CHECK(rc == -1 && errno == ENAMETOOLONG, "join of %zu bytes into %zu fits", want, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    uint8_t bounds = fuzz_u8(&in);
    char *value = fuzz_str(&in), *key = fuzz_str(&in);
    /* Bounds: the full range, or ones a backend uses (a ring page order,
     * a domid, a port), taken from the input. */
    static const uint64_t maxes[] = {UINT64_MAX, 4, 0x7fef, 0xffffffff, 0, 1};
    uint64_t umax = maxes[bounds % 6];
    uint64_t umin = (bounds & 0x80) ? umax / 2 : 0;
    static const int imaxes[] = {INT_MAX, 8, 0, 1};
    int imax = imaxes[(bounds >> 3) % 4];
    int imin = (bounds & 0x40) ? INT_MIN : -imax;

    check_u64(value, umin, umax);
    check_int(value, imin, imax);
    check_show(value);
    check_join(value, key, 1 + (bounds & 63));
    free(value);
    free(key);
    return 0;
}
