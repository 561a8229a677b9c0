/* What an accepted xl disk or vif spec must look like, shared by the spec
 * fuzzers and the whole-config fuzzer (sim/toolstack/xlcfg.h). */
#ifndef PVBACK_FUZZ_XL_CHECK_H
#define PVBACK_FUZZ_XL_CHECK_H

#include "toolstack/xlcfg.h"

/* Every field within its size, every value one the toolstack can act on. */
void xl_check_disk(const struct xlcfg_disk *disk);
void xl_check_vif(const struct xlcfg_vif *vif);

#endif
