#ifndef MXSURVEY_CARES_SHIM_H
#define MXSURVEY_CARES_SHIM_H
#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* Names the calling thread (shown by top -H, perf, gdb); Swift does not import
   pthread_setname_np on Linux. Returns 0 on success. */
static inline int mxsurvey_name_current_thread(const char *name) {
#ifdef __linux__
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
#else
    (void)name;
    return -1;
#endif
}
#endif
