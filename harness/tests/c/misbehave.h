/*
 * Misbehaviour hooks for the harness's isolation tests, compiled into sequential_sampler.c with
 * -DMISBEHAVE_<KIND> (SEGV, ABORT, HANG, EXIT or CHATTER) and optionally
 * -DMISBEHAVE_SEED=s -DMISBEHAVE_EPOCH=e (which run and epoch; default: every one),
 * -DMISBEHAVE_IN_CREATE (when the sampler is created instead) or -DMISBEHAVE_ON_LOAD (in a
 * library constructor, when the library is loaded).
 */
#ifndef MISBEHAVE_H
#define MISBEHAVE_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void misbehave(void) {
#if defined(MISBEHAVE_SEGV)
    /* A real invalid access: a raised SIGSEGV would be absorbed by the Rust runtime's handler. */
    volatile int *nowhere = NULL;
    *nowhere = 1;
#elif defined(MISBEHAVE_ABORT)
    abort();
#elif defined(MISBEHAVE_HANG)
    for (;;) {
        struct timespec second = {1, 0};
        nanosleep(&second, NULL);
    }
#elif defined(MISBEHAVE_EXIT)
    exit(0);
#elif defined(MISBEHAVE_CHATTER)
    /* Text on stdout without a newline, as careless plugins print. */
    printf("sequential says hello");
    fflush(stdout);
#endif
}

/* Misbehaves in `create` when built for it. */
static void misbehave_in_create(void) {
#if defined(MISBEHAVE_IN_CREATE)
    misbehave();
#endif
}

#if defined(MISBEHAVE_ON_LOAD)
/* Runs when the library is loaded, before any ABI call. */
__attribute__((constructor)) static void misbehave_on_load(void) {
    misbehave();
}
#endif

/* Misbehaves in the chosen run and epoch (every one by default), unless built for `create` or
 * for loading. */
static void misbehave_in_epoch(uint64_t seed, uint32_t epoch) {
#if !defined(MISBEHAVE_IN_CREATE) && !defined(MISBEHAVE_ON_LOAD)
#if defined(MISBEHAVE_SEED)
    if (seed != MISBEHAVE_SEED) return;
#endif
#if defined(MISBEHAVE_EPOCH)
    if (epoch != MISBEHAVE_EPOCH) return;
#endif
    misbehave();
#endif
    (void)seed;
    (void)epoch;
}

#endif
