/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* The unit tests' assertion: counts, and names the file, line and what
 * was wrong (printf-style); main returns failures != 0. */
#include <stdio.h>

static int failures, checks;

#define CHECK(cond, ...)                                                     \
        do {                                                                 \
                checks++;                                                    \
                if (!(cond)) {                                               \
                        failures++;                                          \
                        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
                        fprintf(stderr, __VA_ARGS__);                        \
                        fputc('\n', stderr);                                 \
                }                                                            \
        } while (0)
