#ifndef MXSURVEY_CARES_SHIM_H
#define MXSURVEY_CARES_SHIM_H
#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#endif
