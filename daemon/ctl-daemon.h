/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The old name of ctl-bus-client.h, for tcpkeepalivectl.c until its include
 * names ctl-bus-client.h; then this file goes. */
#pragma once
#include "ctl-bus-client.h"
