#include "vector_kernels.h"

#include <immintrin.h>
#include <string.h>

// Portable half -> float (handles subnormals, infinities and NaN).
static float half_to_float(uint16_t half) {
  uint32_t sign = (uint32_t)(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f;
  uint32_t mantissa = half & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {
      exponent = 127 - 15 + 1;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        exponent--;
      }
      bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000 | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float result;
  memcpy(&result, &bits, sizeof result);
  return result;
}

static uint16_t float_to_half(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  uint32_t sign = (bits >> 16) & 0x8000;
  int32_t exponent = (int32_t)((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = bits & 0x7fffff;
  if (((bits >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (mantissa ? 0x200 : 0));
  if (exponent >= 31) return (uint16_t)(sign | 0x7c00);
  if (exponent <= 0) {
    if (exponent < -10) return (uint16_t)sign;
    mantissa |= 0x800000;
    uint32_t shift = (uint32_t)(14 - exponent);
    uint32_t half = mantissa >> shift;
    uint32_t remainder = mantissa & ((1u << shift) - 1);
    uint32_t midpoint = 1u << (shift - 1);
    if (remainder > midpoint || (remainder == midpoint && (half & 1))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = sign | ((uint32_t)exponent << 10) | (mantissa >> 13);
  uint32_t remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder == 0x1000 && (half & 1))) half++;
  return (uint16_t)half;
}

static void dot_f16_portable(
    const uint16_t *rows, size_t count, size_t dimension, const float *query, float *scores) {
  for (size_t row = 0; row < count; row++) {
    const uint16_t *vector = rows + row * dimension;
    float sum = 0;
    for (size_t i = 0; i < dimension; i++) sum += half_to_float(vector[i]) * query[i];
    scores[row] = sum;
  }
}

__attribute__((target("avx2,fma,f16c"))) static void dot_f16_avx2(
    const uint16_t *rows, size_t count, size_t dimension, const float *query, float *scores) {
  for (size_t row = 0; row < count; row++) {
    const uint16_t *vector = rows + row * dimension;
    __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
    for (size_t i = 0; i < dimension; i += 16) {
      __m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(vector + i)));
      __m256 a1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(vector + i + 8)));
      sum0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(query + i), sum0);
      sum1 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(query + i + 8), sum1);
    }
    __m256 sum = _mm256_add_ps(sum0, sum1);
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
    half = _mm_add_ps(half, _mm_movehl_ps(half, half));
    half = _mm_add_ss(half, _mm_shuffle_ps(half, half, 1));
    scores[row] = _mm_cvtss_f32(half);
  }
}

int glimpse_kernels_use_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

void glimpse_dot_f16(
    const uint16_t *rows, size_t count, size_t dimension, const float *query, float *scores) {
  // Checked per call (a read of a global set once by the runtime), not per row.
  if (dimension % 16 == 0 && glimpse_kernels_use_avx2()) {
    dot_f16_avx2(rows, count, dimension, query, scores);
  } else {
    dot_f16_portable(rows, count, dimension, query, scores);
  }
}

void glimpse_f32_to_f16(const float *source, size_t count, uint16_t *destination) {
  for (size_t i = 0; i < count; i++) destination[i] = float_to_half(source[i]);
}
