#ifndef MXSURVEY_ZLIB_SHIM_H
#define MXSURVEY_ZLIB_SHIM_H
#include <zlib.h>
#endif
