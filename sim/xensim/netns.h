/* A guest's network namespace, xs-<name>: where its NICs (pvback-netfront
 * taps) live and where programs that use the network run. The guest's kernel
 * (xensim-guest) creates it at boot when it is missing and removes it when it
 * halts; it leaves a marker, DIR/netns/<name>, so that `xensim destroy` and
 * `stop` remove a namespace whose kernel was killed, and never one that
 * somebody else made (tests that prepare xs-<name> themselves keep theirs). */
#ifndef XENSIM_NETNS_H
#define XENSIM_NETNS_H

#include <stddef.h>

/* "xs-<guest>" into buf. -1 when it does not fit a namespace name. */
int xsim_netns_name(const char *guest, char *buf, size_t len);

/* Creates xs-<guest> (`ip netns add`) unless it exists. 1: created (and the
 * marker written), 0: it existed, -1: failed (message on stderr). */
int xsim_netns_create(const char *dir, const char *guest);

/* Removes xs-<guest> if xensim created it (its marker is in DIR). */
void xsim_netns_remove_owned(const char *dir, const char *guest);

/* A migrated guest's namespace now belongs to the xensim in dir2: its
 * marker moves there (nothing happens when dir has none). */
void xsim_netns_move_owned(const char *dir, const char *dir2, const char *guest);

/* Every namespace whose marker is in DIR (xensim stop). */
void xsim_netns_remove_all_owned(const char *dir);

#endif
