/* See xl_check.h. */
#include "xl_check.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_input.h"
#include "toolstack/toolstack.h"

static bool one_of(const char *v, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v, set[i]))
            return true;
    return false;
}

void xl_check_disk(const struct xlcfg_disk *d)
{
    static const char *const formats[] = {"raw", "qcow", "qcow2", "vhd", "qed", "empty"};
    static const char *const types[] = {"", "phy", "tap", "qdisk"};

    FUZZ_CHECK_FIELD(d->target);
    FUZZ_CHECK_FIELD(d->vdev);
    FUZZ_CHECK_FIELD(d->format);
    FUZZ_CHECK_FIELD(d->access);
    FUZZ_CHECK_FIELD(d->backendtype);
    FUZZ_CHECK_FIELD(d->script);
    FUZZ_CHECK(one_of(d->format, formats, 6), "format '%s'", d->format);
    FUZZ_CHECK(!strcmp(d->access, "rw") || !strcmp(d->access, "ro"), "access '%s'", d->access);
    FUZZ_CHECK(!d->cdrom || !strcmp(d->access, "ro"), "a writable cdrom");
    FUZZ_CHECK(one_of(d->backendtype, types, 4), "backendtype '%s'", d->backendtype);
    FUZZ_CHECK(d->discard >= -1 && d->discard <= 1, "discard %d", d->discard);
    /* The toolstack turns vdev into the device id of the xenstore paths. */
    FUZZ_CHECK(ts_vdev_to_devid(d->vdev) >= 0, "vdev '%s' has no device id", d->vdev);
    FUZZ_CHECK(d->target[0] || d->cdrom, "a disk without a target");
    FUZZ_CHECK(strcmp(d->format, "empty") || d->cdrom, "an empty disk that is not a cdrom");
}

void xl_check_vif(const struct xlcfg_vif *v)
{
    char err[256];
    uint64_t bytes;
    uint32_t usecs;

    FUZZ_CHECK_FIELD(v->mac);
    FUZZ_CHECK_FIELD(v->bridge);
    FUZZ_CHECK_FIELD(v->vlan);
    FUZZ_CHECK_FIELD(v->rate);
    FUZZ_CHECK_FIELD(v->script);
    if (v->mac[0]) {
        FUZZ_CHECK(strlen(v->mac) == 17, "mac '%s'", v->mac);
        for (int i = 0; i < 17; i++)
            FUZZ_CHECK(i % 3 == 2 ? v->mac[i] == ':'
                                  : isxdigit((unsigned char)v->mac[i]) &&
                                        !isupper((unsigned char)v->mac[i]),
                       "mac '%s' is not xx:xx:xx:xx:xx:xx", v->mac);
        FUZZ_CHECK(!(strtol((char[]){v->mac[0], v->mac[1], 0}, NULL, 16) & 1), "multicast mac '%s'",
                   v->mac);
    }
    FUZZ_CHECK(v->mtu == 0 || (v->mtu >= 68 && v->mtu <= 65535), "mtu %u", v->mtu);
    /* What is kept is what the backend will be given: it must still parse. */
    if (v->rate[0])
        FUZZ_CHECK(xlcfg_vif_rate(v->rate, &bytes, &usecs, err, sizeof(err)) == 0,
                   "kept rate '%s' does not parse: %s", v->rate, err);
}
