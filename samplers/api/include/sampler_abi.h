/*
 * sampler_abi.h - the batch-sampler plugin ABI, version 1.1, for plugins written in C.
 *
 * The same definitions as the Rust module `sampler_api::abi` (samplers/api/src/abi.rs); a test
 * of the harness compiles this header and checks every size, offset and constant against the
 * Rust side. A Rust plugin never needs this file: it implements `SamplerPlugin` and calls
 * `export_sampler!`.
 *
 * A plugin is a shared library that exports one function,
 *
 *     SAMPLER_EXPORT const SamplerPluginDescriptor *sampler_plugin_descriptor(void);
 *
 * returning a descriptor that lives as long as the library. The host
 *   1. loads the library (running its initialisers) and calls the entry function;
 *   2. checks the header (magic, descriptor size, ABI major, ABI minor) and then every field
 *      (see SamplerPluginDescriptor); a library that breaks a rule is refused, with its path
 *      and the field named, and never called again;
 *   3. copies the descriptor and its texts; it never reads the plugin's descriptor again;
 *   4. per configured sampler: create, then neighbours_needed once, then (ABI 1.1, when not
 *      NULL) model_neighbours_needed once, then epoch any number of times (epochs 1, 2, ... in
 *      any order and repeated), then destroy (when not NULL);
 *   5. never unloads the library (no dlclose): pointers into it may be used until the process
 *      exits.
 *
 * Ownership: whoever allocates frees. Every buffer the host passes (inputs, output batches,
 * text buffers, the configuration text) belongs to the host, is valid for the call only, and
 * must not be kept or freed by the plugin: copy what you need. The plugin state belongs to the
 * plugin and is freed by its own destroy. Descriptor texts belong to the plugin and must live as
 * long as the library (string literals are ideal).
 *
 * Threading: the host never makes two calls on the same state at the same time (this host makes
 * all calls on a state from the thread that created it). Calls on different states, and of the
 * entry function, may come from any thread, so data shared between states must be read-only or
 * synchronised. The entry function may be called more than once and must return the same
 * descriptor each time.
 *
 * Failure: every function but destroy returns a SamplerStatus. On failure, write a UTF-8 message
 * into the `error` text buffer. Never unwind (C++ exceptions, longjmp) across a call.
 *
 * Texts (SamplerRawStr, SamplerTextBuffer) are UTF-8 and NOT NUL-terminated: a pointer plus a
 * length in bytes. Do not pass them to functions that expect C strings.
 *
 * Minimal plugins: the README (section "Writing a plugin", "In C", with the commands that build
 * and check it) and harness/tests/c/sequential_sampler.c.
 */
#ifndef SAMPLER_ABI_H
#define SAMPLER_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Constants
 * ------------------------------------------------------------------------------------------- */

/* First field of every descriptor: the bytes "SMPLRABI" read as a little-endian uint64_t. */
#define SAMPLER_ABI_MAGIC UINT64_C(0x494241524C504D53)
/* Incompatible changes bump the major version; the host refuses any other major. */
#define SAMPLER_ABI_MAJOR 1u
/* Appended capabilities bump the minor version; the host refuses a newer minor than its own. */
#define SAMPLER_ABI_MINOR 1u
/* The name of the one exported function (see SamplerEntryFn). */
#define SAMPLER_ENTRY_SYMBOL "sampler_plugin_descriptor"

/* Bytes in every text buffer (error message, epoch note) an ABI 1.x host passes. Read the
 * buffer's own `capacity` field rather than assuming this value. */
#define SAMPLER_TEXT_CAPACITY 4096u
/* Ends a text that was cut to fit a text buffer: "\u2026(truncated)" in UTF-8 (14 bytes). */
#define SAMPLER_TRUNCATION_MARK "\xE2\x80\xA6(truncated)"

/* Longest name, version or description the host accepts in a descriptor, in bytes. */
#define SAMPLER_MAX_TEXT_LEN 4096u
/* Longest parameters_json the host accepts in a descriptor, in bytes. */
#define SAMPLER_MAX_JSON_LEN 65536u

/* ---------------------------------------------------------------------------------------------
 * Status codes
 * ------------------------------------------------------------------------------------------- */

/* Outcome of every call across the boundary. */
typedef int32_t SamplerStatus;
/* The call succeeded. */
#define SAMPLER_STATUS_OK 0
/* The call failed; the error buffer holds the reason. */
#define SAMPLER_STATUS_ERROR 1
/* The plugin hit an internal fault (Rust plugins: a caught panic); the error buffer holds the
 * message. The host treats it like SAMPLER_STATUS_ERROR. Any other value is an error too. */
#define SAMPLER_STATUS_PANIC 2

/* Exports a symbol from the shared library. */
#if defined(_WIN32)
#define SAMPLER_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define SAMPLER_EXPORT __attribute__((visibility("default")))
#else
#define SAMPLER_EXPORT
#endif

/* ---------------------------------------------------------------------------------------------
 * Data
 * ------------------------------------------------------------------------------------------- */

/* The fixed-layout start of every descriptor, whatever the ABI version: the host reads it first
 * and refuses the library unless magic == SAMPLER_ABI_MAGIC, abi_major == SAMPLER_ABI_MAJOR,
 * abi_minor <= the host's minor, and descriptor_size is the size of that minor's descriptor. */
typedef struct SamplerAbiHeader {
    uint64_t magic;           /* SAMPLER_ABI_MAGIC */
    uint64_t descriptor_size; /* sizeof(SamplerPluginDescriptor) */
    uint32_t abi_major;       /* SAMPLER_ABI_MAJOR */
    uint32_t abi_minor;       /* SAMPLER_ABI_MINOR */
} SamplerAbiHeader;

/* Borrowed UTF-8 text, NOT NUL-terminated: `len` bytes at `ptr`. `ptr` may be NULL (or any
 * value) only when `len` is 0. In a descriptor it must stay valid as long as the library; as a
 * call argument it is valid for the call only. */
typedef struct SamplerRawStr {
    const uint8_t *ptr;
    size_t len;
} SamplerRawStr;

/* A host-owned buffer that the plugin fills with UTF-8 text (an error message or an epoch
 * note). The host sets `len` to 0 before the call.
 *
 * Write at most `capacity` bytes at `ptr` (SAMPLER_TEXT_CAPACITY in ABI 1.x hosts) and set
 * `len` to the number of bytes written. A text that does not fit must not be cut silently:
 * either end the kept part with SAMPLER_TRUNCATION_MARK, cut at a character boundary
 * (sampler_text_write below does this), or write `capacity` bytes and set `len` to the full
 * length of the text, as snprintf reports it: the host then shows the first `capacity` bytes
 * followed by the mark. A truncated epoch note is no longer valid JSON and fails the epoch. */
typedef struct SamplerTextBuffer {
    uint8_t *ptr;
    size_t capacity;
    size_t len;
} SamplerTextBuffer;

/* What a sampler receives for one epoch; all checked by the host beforehand. Every pointer is
 * valid for the call only: do not keep it. */
typedef struct SamplerRawInputs {
    /* Items are numbered 0 .. n_items - 1; 1 <= n_items <= UINT32_MAX. */
    uint64_t n_items;
    /* Items per batch, 1 <= batch_size <= n_items. */
    uint64_t batch_size;
    /* The run's seed: combine it with the epoch for per-epoch randomness. */
    uint64_t seed;
    /* 1: leave out the short last batch; 0: keep it. */
    uint32_t drop_last;
    /* Always 0. */
    uint32_t _reserved;
    /* Row-major n_items x embedding_dim floats, every row L2-normalised and finite. */
    const float *embeddings;
    /* At least 1. */
    uint64_t embedding_dim;
    /* Row-major n_items x neighbours_k item ids: each item's nearest other items by cosine
     * similarity of the embeddings, nearest first, itself excluded, ties by lower id. When
     * neighbours_k is 0 the pointer must not be read. */
    const uint32_t *neighbours;
    /* The width of the table: at least what neighbours_needed asked for (the host gives every
     * sampler of a run the largest need of the run), and smaller than n_items. */
    uint64_t neighbours_k;

    /* ABI 1.1: tables computed from the model under training, for a sampler whose
     * model_neighbours_needed asked for them (k > 0); a 1.0 plugin never reads this far. The
     * host computes both after the evaluation of every epoch e with e % refresh_every == 0
     * (except the last epoch), from the model's embeddings of the train split in evaluation
     * mode, and passes the latest ones to every later epoch. Until the first refresh (and always
     * for a sampler that asked for none) model_k and model_epoch are 0 and both pointers NULL.
     * `harness check` passes synthetic tables (see the README), so a sampler must treat them as
     * any valid table. */
    /* Row-major n_items x model_k item ids: each item's nearest other items by cosine of the
     * model's item embeddings, nearest first, itself excluded, ties by lower id. */
    const uint32_t *model_neighbours;
    /* Row-major n_items x model_k item ids: row i lists the items j != i whose item embeddings
     * score highest against the embedding of item i's description (the wrong answers the model
     * ranks highest for that text), highest first, ties by lower id. */
    const uint32_t *model_confusions;
    /* 0, or the k that model_neighbours_needed asked for (1 <= model_k < n_items). */
    uint64_t model_k;
    /* The epoch after whose evaluation the tables were computed; 0 when there are none. */
    uint32_t model_epoch;
    /* Always 0. */
    uint32_t _reserved_model;
} SamplerRawInputs;

/* ABI 1.1: what model_neighbours_needed reports. The host zeroes it before the call. */
typedef struct SamplerModelNeeds {
    /* Width of both model tables (0: none; the host then never computes them). */
    uint64_t k;
    /* Recompute the tables after every refresh_every-th epoch; at least 1 when k > 0. */
    uint32_t refresh_every;
    /* Leave 0. */
    uint32_t _reserved;
} SamplerModelNeeds;

/* Host-owned output of one epoch: a flat list of item ids and the end of each batch.
 *
 * Write the items of all batches, one batch after another, into items[0 .. items_len - 1] and
 * the EXCLUSIVE cumulative end of each batch into batch_ends[0 .. n_batches - 1]: batch i is
 * items[batch_ends[i - 1] .. batch_ends[i] - 1], with batch_ends[-1] taken as 0. Ends rise
 * strictly and the last equals items_len. Example, 5 items in batches of 2: items {3,0,4,1,2},
 * batch_ends {2,4,5}, items_len 5, n_batches 3.
 *
 * The host sets items_len and n_batches to 0 before the call; set both before returning OK.
 * Both capacities are n_items in ABI 1.x hosts (room for every item once, in batches of one).
 * Never write beyond a capacity; do not change the pointer or capacity fields (the host ignores
 * them after the call).
 *
 * The batch contract (checked by the host for every epoch): ids below n_items; no id twice;
 * every batch but the last holds exactly batch_size items, the last 1 to batch_size; without
 * drop_last every item is in a batch; with drop_last exactly batch_size * floor(n_items /
 * batch_size) items, all in full batches; the same (seed, epoch, configuration, inputs) give the
 * same batches. */
typedef struct SamplerRawBatches {
    uint32_t *items;
    uint64_t items_capacity;
    uint64_t items_len;
    uint32_t *batch_ends;
    uint64_t batch_ends_capacity;
    uint64_t n_batches;
} SamplerRawBatches;

/* ---------------------------------------------------------------------------------------------
 * Functions
 * ------------------------------------------------------------------------------------------- */

/* Parses `config` and creates the plugin state.
 *
 * `config` is a JSON object as UTF-8 text, NOT NUL-terminated, e.g. {"hard_ratio":0.3}; empty
 * text (len 0) means "all defaults". Refuse unknown keys and bad values with
 * SAMPLER_STATUS_ERROR and a message naming the key: `harness check` requires the refusal of an
 * unknown key.
 *
 * On success store a non-NULL state in *state and return SAMPLER_STATUS_OK; the host refuses a
 * NULL state. A stateless plugin stores the address of any static object. On failure the host
 * ignores *state (and never destroys it). */
typedef SamplerStatus (*SamplerCreateFn)(SamplerRawStr config, void **state,
                                         SamplerTextBuffer *error);

/* Frees a state made by create; called exactly once per state, never for a failed create. May
 * be NULL in the descriptor: the host then never calls it (a plugin without per-state memory). */
typedef void (*SamplerDestroyFn)(void *state);

/* Stores in *needed how many nearest neighbours per item the configured sampler reads (0: none).
 * Called once, right after create. */
typedef SamplerStatus (*SamplerNeighboursNeededFn)(const void *state, uint64_t *needed,
                                                   SamplerTextBuffer *error);

/* Writes the batches of `epoch` (numbered from 1) into `out`, and on success an epoch note into
 * `note`: a JSON object with these three keys,
 *
 *     {"stage":"hard","hard_ratio":0.5,"hardness_k":100}
 *
 * `stage` is a short label of the active behaviour (e.g. "random", "warm-up"); `hard_ratio`, in
 * [0, 1], is the share of each batch the sampler intends to fill with a pivot and its nearest
 * neighbours and `hardness_k` (at most inputs->neighbours_k) how many neighbours it draws from;
 * both are 0 for a random epoch: {"stage":"random","hard_ratio":0,"hardness_k":0}. The host
 * measures the realised share from the neighbour table against the note. One optional key,
 * "max_similarity" (a cosine in (0, 1]), promises false-negative control: no item of a batch has
 * a description cosine at or above it with the batch's first item, unless every item left
 * unplaced after that batch is that similar to it too; neighbours above it then do not count
 * towards the hard promise. ABI 1.1 adds one more optional key, "table": "text" (the default:
 * hard groups come from inputs->neighbours) or "model_confusions" (they come from
 * inputs->model_confusions, which must then be present; hardness_k is then at most
 * inputs->model_k, and the host measures the realised share against that table). No other key
 * is accepted. */
typedef SamplerStatus (*SamplerEpochFn)(const void *state, const SamplerRawInputs *inputs,
                                        uint32_t epoch, SamplerRawBatches *out,
                                        SamplerTextBuffer *note, SamplerTextBuffer *error);

/* ABI 1.1: stores in *needs which tables from the model under training the configured sampler
 * reads (see SamplerRawInputs.model_neighbours). Called once, right after neighbours_needed.
 * May be NULL in the descriptor: the same as reporting k = 0. The host refuses k > 0 with
 * refresh_every 0 and a k of n_items or more (naming the sampler). */
typedef SamplerStatus (*SamplerModelNeighboursNeededFn)(const void *state,
                                                        SamplerModelNeeds *needs,
                                                        SamplerTextBuffer *error);

/* ---------------------------------------------------------------------------------------------
 * The descriptor
 * ------------------------------------------------------------------------------------------- */

/* The static descriptor the entry function returns. Every field is checked at load:
 *
 * name             required: 1 to SAMPLER_MAX_TEXT_LEN bytes of UTF-8, without whitespace,
 *                  control characters, ',', '.', '=', '/' or '\' (it is used on the command
 *                  line: --samplers a,b, LABEL=NAME, --set NAME.KEY=VALUE).
 * version          at most SAMPLER_MAX_TEXT_LEN bytes, no control characters; give one
 *                  (reports record it) and bump it whenever the batches change.
 * description      optional (may be empty): one line for `harness list`, at most
 *                  SAMPLER_MAX_TEXT_LEN bytes.
 * parameters_json  a JSON array with one object per configuration key, in the order to show
 *                  them, each with exactly "name" (non-empty, unique), "default" (any JSON value)
 *                  and "help" (a string); at most SAMPLER_MAX_JSON_LEN bytes. Empty text or []
 *                  means no parameters. Example:
 *                      [{"name":"hard_ratio","default":0.5,"help":"share of each batch"},
 *                       {"name":"hardness_k","default":100,"help":"neighbours to draw from"}]
 * create, neighbours_needed, epoch
 *                  required: NULL refuses the library.
 * destroy          may be NULL: then the host never calls it.
 * model_neighbours_needed
 *                  optional (ABI 1.1): NULL means the sampler reads no model tables. In a
 *                  descriptor declaring minor 0 this slot was reserved: the host checks that a
 *                  non-NULL pointer points to code, and never calls it.
 *
 * Texts follow SamplerRawStr: a NULL pointer with a non-zero length, a length over the limit,
 * bytes that are not UTF-8, or (on Linux) a pointer to unmapped memory refuse the library, and
 * so does (on Linux) a function pointer, the entry symbol included, that does not point into
 * executable memory. */
typedef struct SamplerPluginDescriptor {
    SamplerAbiHeader header;
    SamplerRawStr name;
    SamplerRawStr version;
    SamplerRawStr description;
    SamplerRawStr parameters_json;
    SamplerCreateFn create;
    SamplerDestroyFn destroy;
    SamplerNeighboursNeededFn neighbours_needed;
    SamplerEpochFn epoch;
    SamplerModelNeighboursNeededFn model_neighbours_needed;
} SamplerPluginDescriptor;

/* Signature of the entry function, exported as SAMPLER_ENTRY_SYMBOL. Returns the descriptor, or
 * NULL if the plugin cannot work (the host then refuses the library). */
typedef const SamplerPluginDescriptor *(*SamplerEntryFn)(void);

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(SamplerAbiHeader) == 24, "ABI 1.x header is 24 bytes");
_Static_assert(sizeof(SamplerPluginDescriptor) == 128,
               "ABI 1.0 and 1.1 descriptors are 128 bytes on 64-bit targets");
#endif

/* ---------------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------------- */

/* A SamplerRawStr for a string literal or a static NUL-terminated string (the NUL is not part
 * of it). */
#define SAMPLER_STR(literal) {(const uint8_t *)(literal), sizeof(literal) - 1}

/* Writes the NUL-terminated UTF-8 `text` into `buffer`; a text that does not fit is cut at a
 * character boundary and ends in SAMPLER_TRUNCATION_MARK (nothing is written if the buffer
 * cannot even hold the mark). */
static inline void sampler_text_write(SamplerTextBuffer *buffer, const char *text) {
    const size_t mark_len = sizeof(SAMPLER_TRUNCATION_MARK) - 1;
    size_t len, keep;
    if (buffer == NULL) {
        return;
    }
    buffer->len = 0;
    if (buffer->ptr == NULL || text == NULL) {
        return;
    }
    len = strlen(text);
    if (len <= buffer->capacity) {
        memcpy(buffer->ptr, text, len);
        buffer->len = len;
        return;
    }
    if (buffer->capacity < mark_len) {
        return;
    }
    keep = buffer->capacity - mark_len;
    /* text[keep] is the first byte left out: while it continues a character, leave that
     * character out too. */
    while (keep > 0 && ((unsigned char)text[keep] & 0xC0u) == 0x80u) {
        keep--;
    }
    memcpy(buffer->ptr, text, keep);
    memcpy(buffer->ptr + keep, SAMPLER_TRUNCATION_MARK, mark_len);
    buffer->len = keep + mark_len;
}

#ifdef __cplusplus
}
#endif

#endif /* SAMPLER_ABI_H */
