/* The xensim demo: a guest shares a page holding a message and offers an
 * event channel; dom0 maps the page, reads it, writes a reply, binds the
 * channel and notifies; the guest wakes up and reads the reply. They find
 * each other through the guest's xenstore directory, as a frontend and a
 * backend do. */
#ifndef XENSIM_DEMO_H
#define XENSIM_DEMO_H

/* Under /local/domain/<guest>/: written by the guest, read by dom0. */
#define DEMO_KEY_REF  "data/demo/page-ref"
#define DEMO_KEY_PORT "data/demo/event-channel"

#define DEMO_MESSAGE  "Hello from the guest, through a grant!"
#define DEMO_REPLY    "Hello back from dom0."
#define DEMO_REPLY_AT 2048 /* where in the page dom0 writes its reply */

#define DEMO_WAIT_MS 30000

#endif
