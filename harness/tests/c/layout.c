/*
 * Prints the layout and constants of sampler_abi.h, one "key value" line each, for the test
 * that compares them with the Rust definitions in sampler_api::abi.
 */
#include <inttypes.h>
#include <stdio.h>

#include "sampler_abi.h"

#define SIZE(type) printf("size %s %zu\n", #type, sizeof(type))
#define FIELD(type, field) printf("offset %s.%s %zu\n", #type, #field, offsetof(type, field))

int main(void) {
    const char *mark = SAMPLER_TRUNCATION_MARK;
    size_t i;

    SIZE(SamplerAbiHeader);
    FIELD(SamplerAbiHeader, magic);
    FIELD(SamplerAbiHeader, descriptor_size);
    FIELD(SamplerAbiHeader, abi_major);
    FIELD(SamplerAbiHeader, abi_minor);

    SIZE(SamplerRawStr);
    FIELD(SamplerRawStr, ptr);
    FIELD(SamplerRawStr, len);

    SIZE(SamplerTextBuffer);
    FIELD(SamplerTextBuffer, ptr);
    FIELD(SamplerTextBuffer, capacity);
    FIELD(SamplerTextBuffer, len);

    SIZE(SamplerRawInputs);
    FIELD(SamplerRawInputs, n_items);
    FIELD(SamplerRawInputs, batch_size);
    FIELD(SamplerRawInputs, seed);
    FIELD(SamplerRawInputs, drop_last);
    FIELD(SamplerRawInputs, _reserved);
    FIELD(SamplerRawInputs, embeddings);
    FIELD(SamplerRawInputs, embedding_dim);
    FIELD(SamplerRawInputs, neighbours);
    FIELD(SamplerRawInputs, neighbours_k);
    FIELD(SamplerRawInputs, model_neighbours);
    FIELD(SamplerRawInputs, model_confusions);
    FIELD(SamplerRawInputs, model_k);
    FIELD(SamplerRawInputs, model_epoch);
    FIELD(SamplerRawInputs, _reserved_model);

    SIZE(SamplerModelNeeds);
    FIELD(SamplerModelNeeds, k);
    FIELD(SamplerModelNeeds, refresh_every);
    FIELD(SamplerModelNeeds, _reserved);

    SIZE(SamplerRawBatches);
    FIELD(SamplerRawBatches, items);
    FIELD(SamplerRawBatches, items_capacity);
    FIELD(SamplerRawBatches, items_len);
    FIELD(SamplerRawBatches, batch_ends);
    FIELD(SamplerRawBatches, batch_ends_capacity);
    FIELD(SamplerRawBatches, n_batches);

    SIZE(SamplerPluginDescriptor);
    FIELD(SamplerPluginDescriptor, header);
    FIELD(SamplerPluginDescriptor, name);
    FIELD(SamplerPluginDescriptor, version);
    FIELD(SamplerPluginDescriptor, description);
    FIELD(SamplerPluginDescriptor, parameters_json);
    FIELD(SamplerPluginDescriptor, create);
    FIELD(SamplerPluginDescriptor, destroy);
    FIELD(SamplerPluginDescriptor, neighbours_needed);
    FIELD(SamplerPluginDescriptor, epoch);
    FIELD(SamplerPluginDescriptor, model_neighbours_needed);

    SIZE(SamplerStatus);
    SIZE(SamplerCreateFn);
    SIZE(SamplerEntryFn);
    SIZE(SamplerModelNeighboursNeededFn);

    printf("const SAMPLER_ABI_MAGIC %" PRIu64 "\n", (uint64_t)SAMPLER_ABI_MAGIC);
    printf("const SAMPLER_ABI_MAJOR %u\n", (unsigned)SAMPLER_ABI_MAJOR);
    printf("const SAMPLER_ABI_MINOR %u\n", (unsigned)SAMPLER_ABI_MINOR);
    printf("const SAMPLER_STATUS_OK %d\n", (int)SAMPLER_STATUS_OK);
    printf("const SAMPLER_STATUS_ERROR %d\n", (int)SAMPLER_STATUS_ERROR);
    printf("const SAMPLER_STATUS_PANIC %d\n", (int)SAMPLER_STATUS_PANIC);
    printf("const SAMPLER_TEXT_CAPACITY %u\n", (unsigned)SAMPLER_TEXT_CAPACITY);
    printf("const SAMPLER_MAX_TEXT_LEN %u\n", (unsigned)SAMPLER_MAX_TEXT_LEN);
    printf("const SAMPLER_MAX_JSON_LEN %u\n", (unsigned)SAMPLER_MAX_JSON_LEN);
    printf("const SAMPLER_ENTRY_SYMBOL %s\n", SAMPLER_ENTRY_SYMBOL);
    printf("const SAMPLER_TRUNCATION_MARK");
    for (i = 0; mark[i] != '\0'; i++) {
        printf(" %02x", (unsigned)(unsigned char)mark[i]);
    }
    printf("\n");
    return 0;
}
