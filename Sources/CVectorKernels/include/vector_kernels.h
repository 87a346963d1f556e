// Dot products of one query against many rows stored as IEEE half floats: the exact index's
// first pass reads half the bytes of float32 (the scan is memory-bound), then reranks the
// best candidates in float32.
#ifndef GLIMPSE_VECTOR_KERNELS_H
#define GLIMPSE_VECTOR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// scores[i] = dot(query, rows[i]) for `count` rows of `dimension` halfs (dimension % 16 == 0
/// takes the AVX2 path where the CPU has it).
void glimpse_dot_f16(
    const uint16_t *rows, size_t count, size_t dimension, const float *query, float *scores);

/// Converts floats to halfs (round to nearest even).
void glimpse_f32_to_f16(const float *source, size_t count, uint16_t *destination);

/// 1 when the AVX2 + F16C path is used on this CPU.
int glimpse_kernels_use_avx2(void);

#endif
