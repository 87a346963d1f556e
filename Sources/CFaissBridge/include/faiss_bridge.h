// A small C interface over FAISS's HNSW index, so Swift can use it without C++ interop.
// Labels are the order of insertion (0, 1, 2, …); the caller maps them to item ids.
#ifndef GLIMPSE_FAISS_BRIDGE_H
#define GLIMPSE_FAISS_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct glimpse_hnsw glimpse_hnsw;

/// A new inner-product HNSW index over `dimension`-wide vectors; NULL with `error` set on failure.
glimpse_hnsw *glimpse_hnsw_create(int dimension, int neighbors, int ef_construction, char **error);
/// Reads an index written by glimpse_hnsw_write.
glimpse_hnsw *glimpse_hnsw_read(const char *path, char **error);
/// Writes the index to `path` (the caller renames it into place for atomicity). 0 on success.
int glimpse_hnsw_write(const glimpse_hnsw *index, const char *path, char **error);
void glimpse_hnsw_free(glimpse_hnsw *index);

/// Appends `count` vectors (row-major); their labels follow the current count. 0 on success.
int glimpse_hnsw_add(glimpse_hnsw *index, int64_t count, const float *vectors, char **error);
int64_t glimpse_hnsw_count(const glimpse_hnsw *index);
int glimpse_hnsw_dimension(const glimpse_hnsw *index);

/// The `k` best labels for one query among those whose bit is set in `allowed` (bit i of
/// byte i/8; NULL allows all). Missing results have label -1. 0 on success.
int glimpse_hnsw_search(
    const glimpse_hnsw *index, const float *query, int64_t k, int ef_search, const uint8_t *allowed,
    size_t allowed_bytes, float *scores, int64_t *labels, char **error);

/// Sets the default search beam. FAISS 1.7.3 ignores the efSearch of per-call search
/// parameters (only the selector is used), so this is how the beam is set; call it before
/// concurrent searches start.
void glimpse_hnsw_set_ef_search(glimpse_hnsw *index, int ef_search);

/// Frees an error message returned by the functions above.
void glimpse_faiss_free_error(char *error);

#ifdef __cplusplus
}
#endif

#endif
