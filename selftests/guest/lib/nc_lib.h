/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to lib/: what every source of the test library includes first.
 * NC_LIB keeps nc_test.h's per-binary constructor out of the library's
 * objects (each test binary gets it from its own nc_test.h include).
 */
#ifndef NC_LIB_H
#define NC_LIB_H

#define NC_LIB 1
#include "nc_net.h"

#endif /* NC_LIB_H */
