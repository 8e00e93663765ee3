/*
 * The neighbours_needed function of a C test plugin that reads no neighbour table, shared by
 * sequential_sampler.c and broken_sampler.c.
 */
#ifndef NO_NEIGHBOURS_H
#define NO_NEIGHBOURS_H

#include "sampler_abi.h"

static SamplerStatus neighbours_needed(const void *state, uint64_t *needed,
                                       SamplerTextBuffer *error) {
    (void)state;
    (void)error;
    *needed = 0;
    return SAMPLER_STATUS_OK;
}

#endif
