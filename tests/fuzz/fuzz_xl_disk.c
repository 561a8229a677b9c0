/* Fuzzes the xl disk spec parser (sim/toolstack/xlcfg.h, xlcfg_parse_disk):
 * the positional and keyword forms a user writes in disk=[...].
 *
 * Input: the spec text.
 *
 * Invariants: a refusal has a message quoting the spec; an accepted disk
 * has every field terminated within its size, a known format, access and
 * backend type, a vdev the toolstack can number, a target unless it is a
 * cdrom; and a second parse of the same spec gives the same disk. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "xl_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in_make(data, size);
    char *spec = fuzz_rest_str(&in), err[512] = "";
    static struct xlcfg_disk disk, again;

    if (xlcfg_parse_disk(spec, &disk, err, sizeof(err)) < 0) {
        FUZZ_CHECK_ERR(err);
    } else {
        xl_check_disk(&disk);
        FUZZ_CHECK(xlcfg_parse_disk(spec, &again, err, sizeof(err)) == 0 &&
                       !memcmp(&disk, &again, sizeof(disk)),
                   "a second parse of '%s' differs", spec);
    }
    free(spec);
    return 0;
}
