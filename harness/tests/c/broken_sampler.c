/*
 * Misbehaving C plugins for the harness's tests: one source, one fault per build, chosen with
 * -DFAULT_<NAME> (see the switches below). Without a fault it is a valid random-order sampler with
 * a destroy function. Each broken descriptor must be refused at load with the field named (or,
 * for the run-time faults, fail the call with a message), never crash the harness.
 */
#include <stdio.h>
#include <stdlib.h>

#include "no_neighbours.h"
#include "sampler_abi.h"

#if defined(SPY_LOAD_MARKER)
/* Not a fault: an initialiser that appends a line to the file named by SAMPLER_TEST_LOAD_MARKER
 * whenever the library is loaded, so a test can tell which commands load plugin folders. */
__attribute__((constructor)) static void mark_loaded(void) {
    const char *path = getenv("SAMPLER_TEST_LOAD_MARKER");
    FILE *file = path != NULL ? fopen(path, "a") : NULL;
    if (file != NULL) {
        fputs("loaded\n", file);
        fclose(file);
    }
}
#endif

typedef struct State {
    uint64_t salt;
} State;

static SamplerStatus create(SamplerRawStr config, void **state, SamplerTextBuffer *error) {
#if defined(FAULT_LONG_ERROR)
    /* A message longer than the buffer, reported snprintf-style: the host marks the cut. */
    size_t i;
    (void)config;
    (void)state;
    for (i = 0; i < error->capacity; i++) {
        error->ptr[i] = 'x';
    }
    error->len = 3 * error->capacity;
    return SAMPLER_STATUS_ERROR;
#elif defined(FAULT_NULL_STATE)
    (void)config;
    (void)error;
    *state = NULL;
    return SAMPLER_STATUS_OK;
#else
    State *fresh;
    if (config.len > 2) {
        sampler_text_write(error, "invalid configuration: no parameters");
        return SAMPLER_STATUS_ERROR;
    }
    fresh = malloc(sizeof *fresh);
    if (fresh == NULL) {
        sampler_text_write(error, "out of memory");
        return SAMPLER_STATUS_ERROR;
    }
    fresh->salt = 0x5EED;
    *state = fresh;
    return SAMPLER_STATUS_OK;
#endif
}

static void destroy(void *state) {
    free(state);
}

static SamplerStatus epoch(const void *state, const SamplerRawInputs *inputs, uint32_t epoch,
                           SamplerRawBatches *out, SamplerTextBuffer *note,
                           SamplerTextBuffer *error) {
    const State *s = state;
    uint64_t n = inputs->n_items, size = inputs->batch_size, i, x;
    uint64_t kept = inputs->drop_last ? n - n % size : n;
    (void)error;
    for (i = 0; i < n; i++) {
        out->items[i] = (uint32_t)i;
    }
    /* Fisher-Yates with a xorshift generator seeded from seed, epoch and salt. */
    x = (inputs->seed * UINT64_C(0x9E3779B97F4A7C15)) ^ ((uint64_t)epoch << 32) ^ s->salt;
    for (i = n - 1; i > 0; i--) {
        uint64_t j;
        uint32_t t;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        j = x % (i + 1);
        t = out->items[i];
        out->items[i] = out->items[j];
        out->items[j] = t;
    }
    out->items_len = kept;
    out->n_batches = 0;
    for (i = size; i - size < kept; i += size) {
        out->batch_ends[out->n_batches++] = (uint32_t)(i < kept ? i : kept);
    }
    sampler_text_write(note, "{\"stage\":\"random\",\"hard_ratio\":0,\"hardness_k\":0}");
    return SAMPLER_STATUS_OK;
}

#define GOOD_NAME SAMPLER_STR("broken")
#define GOOD_VERSION SAMPLER_STR("0.0.1")
#define GOOD_DESCRIPTION SAMPLER_STR("test fixture with one fault per build")
#define GOOD_PARAMETERS SAMPLER_STR("[]")

#if defined(FAULT_NULL_NAME)
#define NAME {NULL, 6}
#elif defined(FAULT_EMPTY_NAME)
#define NAME {NULL, 0}
#elif defined(FAULT_NAME_WITH_SPACE)
#define NAME SAMPLER_STR("has space")
#elif defined(FAULT_NAME_WITH_DOT)
#define NAME SAMPLER_STR("v1.2")
#elif defined(FAULT_UNMAPPED_NAME)
#define NAME {(const uint8_t *)(uintptr_t)16, 6}
#else
#define NAME GOOD_NAME
#endif

#if defined(FAULT_HUGE_VERSION)
#define VERSION {(const uint8_t *)"0.0.1", SIZE_MAX}
#elif defined(FAULT_VERSION_WITH_NEWLINE)
#define VERSION SAMPLER_STR("0.0.1\n")
#else
#define VERSION GOOD_VERSION
#endif

#if defined(FAULT_BAD_UTF8_DESCRIPTION)
#define DESCRIPTION SAMPLER_STR("caf\xE9 au lait")
#elif defined(FAULT_HUGE_DESCRIPTION)
#define DESCRIPTION {(const uint8_t *)"x", (size_t)1 << 40}
#else
#define DESCRIPTION GOOD_DESCRIPTION
#endif

#if defined(FAULT_BAD_PARAMETERS)
#define PARAMETERS SAMPLER_STR("{\"name\":\"k\"}")
#else
#define PARAMETERS GOOD_PARAMETERS
#endif

static const SamplerPluginDescriptor DESCRIPTOR = {
    .header = {
        .magic = SAMPLER_ABI_MAGIC,
        .descriptor_size = sizeof(SamplerPluginDescriptor),
        .abi_major = SAMPLER_ABI_MAJOR,
        .abi_minor = SAMPLER_ABI_MINOR,
    },
    .name = NAME,
    .version = VERSION,
    .description = DESCRIPTION,
    .parameters_json = PARAMETERS,
#if defined(FAULT_NULL_CREATE)
    .create = NULL,
#else
    .create = create,
#endif
    .destroy = destroy,
#if defined(FAULT_NULL_NEIGHBOURS_NEEDED)
    .neighbours_needed = NULL,
#else
    .neighbours_needed = neighbours_needed,
#endif
#if defined(FAULT_NULL_EPOCH)
    .epoch = NULL,
#elif defined(FAULT_UNMAPPED_EPOCH)
    .epoch = (SamplerEpochFn)(uintptr_t)32,
#else
    .epoch = epoch,
#endif
    .model_neighbours_needed = NULL,
};

#if defined(FAULT_DATA_ENTRY)
/* The entry symbol names data, not a function: calling it would crash. */
SAMPLER_EXPORT const SamplerPluginDescriptor *const sampler_plugin_descriptor = &DESCRIPTOR;
#else
SAMPLER_EXPORT const SamplerPluginDescriptor *sampler_plugin_descriptor(void) {
#if defined(FAULT_UNMAPPED_DESCRIPTOR)
    return (const SamplerPluginDescriptor *)(uintptr_t)64;
#else
    return &DESCRIPTOR;
#endif
}
#endif
