/*
 * A stateless sampler plugin in plain C, built against samplers/api/include/sampler_abi.h.
 *
 * Batches hold the items in index order, starting from an offset that depends on the seed and
 * the epoch (so that seed and epoch change the batches, as `harness check` requires), wrapping
 * around at the end: offset, offset + 1, ..., n - 1, 0, 1, ..., offset - 1, cut into batches of
 * batch_size. It takes no parameters, reads no neighbours and keeps no state, so `destroy` is
 * NULL.
 *
 * Build: cc -std=c11 -shared -fPIC -I samplers/api/include \
 *            -o libsequential_sampler.so harness/tests/c/sequential_sampler.c
 */
#include "no_neighbours.h"
#include "sampler_abi.h"

#if defined(MISBEHAVE)
#include "misbehave.h"
#else
#define misbehave_in_create()
#define misbehave_in_epoch(seed, epoch)
#endif

/* The state create hands out: a stateless plugin still returns a non-NULL state. */
static const int STATELESS = 0;

/* SplitMix64: a well-mixed offset from the seed and the epoch. */
static uint64_t mix(uint64_t x) {
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

static int is_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Accepts an empty configuration or an empty JSON object, refuses anything else. */
static SamplerStatus create(SamplerRawStr config, void **state, SamplerTextBuffer *error) {
    size_t i = 0, end = config.len;
    misbehave_in_create();
    while (i < end && is_space(config.ptr[i])) {
        i++;
    }
    while (end > i && is_space(config.ptr[end - 1])) {
        end--;
    }
    if (i < end) {
        int empty_object = config.ptr[i] == '{' && config.ptr[end - 1] == '}';
        for (size_t j = i + 1; empty_object && j + 1 < end; j++) {
            empty_object = is_space(config.ptr[j]);
        }
        if (!empty_object || end - i < 2) {
            sampler_text_write(error, "invalid configuration: sequential takes no parameters");
            return SAMPLER_STATUS_ERROR;
        }
    }
    *state = (void *)&STATELESS;
    return SAMPLER_STATUS_OK;
}

static SamplerStatus epoch(const void *state, const SamplerRawInputs *inputs, uint32_t epoch,
                           SamplerRawBatches *out, SamplerTextBuffer *note,
                           SamplerTextBuffer *error) {
    uint64_t n = inputs->n_items, size = inputs->batch_size;
    uint64_t offset = mix(inputs->seed ^ mix(epoch)) % n;
    uint64_t kept = inputs->drop_last ? n - n % size : n;
    (void)state;
    misbehave_in_epoch(inputs->seed, epoch);
    if (out->items_capacity < kept || out->batch_ends_capacity < (kept + size - 1) / size) {
        sampler_text_write(error, "output buffers too small");
        return SAMPLER_STATUS_ERROR;
    }
    for (uint64_t i = 0; i < kept; i++) {
        out->items[i] = (uint32_t)((offset + i) % n);
    }
    out->items_len = kept;
    out->n_batches = 0;
    for (uint64_t end = size; end - size < kept; end += size) {
        out->batch_ends[out->n_batches++] = (uint32_t)(end < kept ? end : kept);
    }
    sampler_text_write(note, "{\"stage\":\"sequential\",\"hard_ratio\":0,\"hardness_k\":0}");
    return SAMPLER_STATUS_OK;
}

static const SamplerPluginDescriptor DESCRIPTOR = {
    .header = {
        .magic = SAMPLER_ABI_MAGIC,
        .descriptor_size = sizeof(SamplerPluginDescriptor),
        .abi_major = SAMPLER_ABI_MAJOR,
        .abi_minor = 0, /* written for ABI 1.0: a 1.1 harness loads it unchanged */
    },
    .name = SAMPLER_STR("sequential"),
    .version = SAMPLER_STR("1.0.0"),
    .description = SAMPLER_STR("Items in index order from a seeded offset (a C plugin)."),
    .parameters_json = SAMPLER_STR("[]"),
    .create = create,
    .destroy = NULL, /* stateless: nothing to free, the host never calls it */
    .neighbours_needed = neighbours_needed,
    .epoch = epoch,
    .model_neighbours_needed = NULL,
};

SAMPLER_EXPORT const SamplerPluginDescriptor *sampler_plugin_descriptor(void) {
    return &DESCRIPTOR;
}
