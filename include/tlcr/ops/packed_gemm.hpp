// tlcr/ops/packed_gemm.hpp — tlcr's own single-precision matrix product, C (+)= op(A) · op(B), for
// CPUs with AVX2 + FMA or AVX-512: operands packed into cache-sized panels, a register-blocked
// micro-kernel, one block of C per thread.
// Not here: double precision, other CPUs, or the Eigen-expression front end (ops/matmul.hpp sends
// floats here and everything else to Eigen).
//
// Shape legend: op(A) is M × K, op(B) is K × N, C is M × N, all row-major with unit inner stride.
// Loop nest (BLIS's, ordered so that the A sliver is the operand that stays in L1):
//   for each row block ic of kBlockRows rows
//     for each depth block pc of kBlockDepth     A: packed, or read in place (row-major A)
//       for each column panel jc of kPanelCols   pack op(B)[pc, jc] into NR-column slivers (L2)
//         for each MR-row sliver ir              (A sliver: MR × KC, L1)
//           for each NR-column sliver jr         micro-kernel: C[ir, jr] (+)= A sliver · B sliver
// Transposes never reach the micro-kernel: a transposed B is transposed while packed, and A is read
// by rows or by columns (SliverLayout), whichever way it lies. Products of few rows take a thin
// path that reads B in place instead of packing it (takes_thin_path).
// Each element of C is one FMA chain per depth block, added to C block after block in the same
// order whatever the thread count, so results are bitwise identical on any number of threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TLCR_HAVE_PACKED_GEMM 1
#else
#define TLCR_HAVE_PACKED_GEMM 0
#endif

#include "tlcr/core/parallel.hpp"

namespace tlcr::packed {

// One operand as stored: element (i, p) of op(X) is data[i·stride + p], or data[p·stride + i]
// when `transposed`.
struct Operand {
  const float* data;
  int64_t stride;
  bool transposed;
  float at(int64_t i, int64_t p) const {
    return transposed ? data[p * stride + i] : data[i * stride + p];
  }
};

#if TLCR_HAVE_PACKED_GEMM

// ---- vector registers -------------------------------------------------------------------------
// Each ISA is a register type, its lane count, and the operations the kernels need.
// kRows is the micro-tile height MR; the width NR is two registers. MR is chosen so MR × 2
// accumulators + 2 B registers + 1 broadcast fit the register file (16 ymm, 32 zmm).

struct Avx2 {
  using Reg = __m256;
  static constexpr int kLanes = 8, kRows = 6;  // 6 × 16 tile: 12 accumulators
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }  // a·b + c
  static float sum(Reg v) {  // lanes added pairwise: (0+4, 1+5, 2+6, 3+7), then within the half
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    half = _mm_add_ps(half, _mm_movehl_ps(half, half));
    return _mm_cvtss_f32(_mm_add_ss(half, _mm_movehdup_ps(half)));
  }
};

#if defined(__AVX512F__)
struct Avx512 {
  using Reg = __m512;
  static constexpr int kLanes = 16, kRows = 12;  // 12 × 32 tile: 24 accumulators
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static Reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static float sum(Reg v) { return _mm512_reduce_add_ps(v); }
};
using NativeIsa = Avx512;
#else
using NativeIsa = Avx2;
#endif

// Cache blocking: a packed B panel (kBlockDepth × kPanelCols floats, 768 KiB) fits a 1 MiB L2; an
// A sliver (MR × kBlockDepth, 18 KiB at MR = 12) stays in a 32 KiB L1 while it meets every B
// sliver of the panel; a packed A block (kBlockRows × kBlockDepth, 1.5 MiB) streams from L3.
// kBlockDepth = 384 makes a transformer of width 384 one depth block per product: measured on the
// 2-core Zen 4 machine against 256, 8192 × 384 → 1152 went from 169 to 187 GFLOP/s (2 threads).
constexpr int64_t kBlockDepth = 384, kPanelCols = 512, kBlockRows = 1024;

namespace detail {

// How the micro-kernel reads an A sliver (MR rows of op(A) × depth). A is never transposed on the
// way in; each layout is how its source already lies:
//   ByColumn — depth groups of MR floats, a[p·MR + r]: a transposed A (columns of op(A)
//              contiguous), packed by copying MR floats per p;
//   ByRow    — MR rows with a row stride, a[r·stride + p]: a row-major A read in place (only a
//              ragged last sliver is copied out, to pad it with zero rows).
// The micro-kernel broadcasts one A value per row per step either way.
enum class SliverLayout { ByColumn, ByRow };

template <class Isa, SliverLayout layout>
inline const float* a_value(const float* a_sliver, int64_t a_row_stride, int64_t p, int r) {
  if constexpr (layout == SliverLayout::ByColumn)
    return a_sliver + p * Isa::kRows + r;
  else
    return a_sliver + r * a_row_stride + p;
}

// c_tile (MR × NR, row stride ldc) = (overwrite ? 0 : c_tile) + a_sliver · b_sliver, where
// a_sliver is MR rows × depth (laid out as `layout`; a_row_stride is used by ByRow) and b_sliver is
// depth rows of NR floats, b_row_stride apart (NR when packed).
template <class Isa, SliverLayout layout>
inline void micro_kernel(int64_t depth, const float* a_sliver, int64_t a_row_stride,
                         const float* b_sliver, int64_t b_row_stride, float* c_tile, int64_t ldc,
                         bool overwrite) {
  constexpr int rows = Isa::kRows, lanes = Isa::kLanes;
  typename Isa::Reg acc[rows][2];
#pragma GCC unroll 16
  for (int r = 0; r < rows; ++r) acc[r][0] = acc[r][1] = Isa::zero();
  for (int64_t p = 0; p < depth; ++p, b_sliver += b_row_stride) {
    const auto b0 = Isa::load(b_sliver), b1 = Isa::load(b_sliver + lanes);
#pragma GCC unroll 16
    for (int r = 0; r < rows; ++r) {
      const auto a = Isa::broadcast(a_value<Isa, layout>(a_sliver, a_row_stride, p, r));
      acc[r][0] = Isa::fma(a, b0, acc[r][0]);
      acc[r][1] = Isa::fma(a, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < rows; ++r) {
    float* c_row = c_tile + r * ldc;
    if (overwrite) {
      Isa::store(c_row, acc[r][0]);
      Isa::store(c_row + lanes, acc[r][1]);
    } else {
      Isa::store(c_row, Isa::add(Isa::load(c_row), acc[r][0]));
      Isa::store(c_row + lanes, Isa::add(Isa::load(c_row + lanes), acc[r][1]));
    }
  }
}

// A partial tile (rows × cols ≤ MR × NR at C's edge): the same kernel into a scratch tile, then
// the valid part added to (or written over) C. Same arithmetic per element as a full tile.
template <class Isa, SliverLayout layout>
inline void edge_kernel(int64_t depth, const float* a_sliver, int64_t a_row_stride,
                        const float* b_sliver, int64_t b_row_stride, float* c_tile, int64_t ldc,
                        bool overwrite, int64_t rows, int64_t cols) {
  constexpr int kWidth = 2 * Isa::kLanes;
  alignas(64) float scratch[Isa::kRows * kWidth];
  micro_kernel<Isa, layout>(depth, a_sliver, a_row_stride, b_sliver, b_row_stride, scratch, kWidth,
                            true);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j)
      c_tile[r * ldc + j] =
          overwrite ? scratch[r * kWidth + j] : c_tile[r * ldc + j] + scratch[r * kWidth + j];
}

// One tile of C (rows × cols ≤ MR × NR): the micro-kernel straight into C when the tile is full,
// the edge kernel otherwise.
template <class Isa, SliverLayout layout>
inline void tile_kernel(int64_t depth, const float* a_sliver, int64_t a_row_stride,
                        const float* b_sliver, int64_t b_row_stride, float* c_tile, int64_t ldc,
                        bool overwrite, int64_t rows, int64_t cols) {
  if (rows == Isa::kRows && cols == 2 * Isa::kLanes)
    micro_kernel<Isa, layout>(depth, a_sliver, a_row_stride, b_sliver, b_row_stride, c_tile, ldc,
                              overwrite);
  else
    edge_kernel<Isa, layout>(depth, a_sliver, a_row_stride, b_sliver, b_row_stride, c_tile, ldc,
                             overwrite, rows, cols);
}

// Packed transposed A: ⌈rows/MR⌉ slivers of depth × MR floats (ByColumn), holding op(A)[row0 :
// row0+rows, p0 : p0+depth]; rows past the end are zero. Column p of op(A) is contiguous in a
// transposed A, so each step is one copy of MR floats.
template <class Isa>
inline void pack_a_columns(float* packed, const Operand& a, int64_t row0, int64_t rows, int64_t p0,
                           int64_t depth) {
  constexpr int64_t mr = Isa::kRows;
  for (int64_t sliver = 0; sliver < rows; sliver += mr, packed += depth * mr) {
    const int64_t valid = std::min(mr, rows - sliver);
    const float* source = a.data + p0 * a.stride + row0 + sliver;
    for (int64_t p = 0; p < depth; ++p, source += a.stride) {
      float* column = packed + p * mr;
      if (valid == mr) {
        std::memcpy(column, source, sizeof(float) * mr);  // fixed size: inlined
      } else {
        std::memcpy(column, source, sizeof(float) * valid);
        std::fill(column + valid, column + mr, 0.0f);
      }
    }
  }
}

// Row-major A copied into ⌈rows/MR⌉ slivers of MR rows × kBlockDepth floats (ByRow, stride
// kBlockDepth), holding op(A)[row0 : row0+rows, p0 : p0+depth]; rows past the end are zero.
template <class Isa>
inline void pack_a_rows(float* packed, const Operand& a, int64_t row0, int64_t rows, int64_t p0,
                        int64_t depth) {
  for (int64_t r = 0; r < (rows + Isa::kRows - 1) / Isa::kRows * Isa::kRows; ++r) {
    float* row = packed + r * kBlockDepth;
    if (r < rows)
      std::memcpy(row, a.data + (row0 + r) * a.stride + p0, sizeof(float) * depth);
    else
      std::fill(row, row + depth, 0.0f);
  }
}

// Whether a row-major A is copied rather than read in place: when its row stride is a multiple of
// 2 KiB, the MR rows of a sliver fall into a few L1 cache sets and evict each other (measured:
// 512 × 384 × 4096 ran at 145 GFLOP/s in place, 183 copied).
inline bool copies_rows(const Operand& a) {
  return !a.transposed && a.stride % 512 == 0;
}

// block (8 × 8 floats, row stride `to_stride`) = the transpose of the 8 × 8 block at `from`
// (row stride `from_stride`): the classic unpack / shuffle / lane-permute sequence on ymm
// registers.
inline void transpose_8x8(const float* from, int64_t from_stride, float* to, int64_t to_stride) {
  __m256 row[8], pair[8], quad[8];
  for (int i = 0; i < 8; ++i) row[i] = _mm256_loadu_ps(from + i * from_stride);
  for (int i = 0; i < 8; i += 2) {  // interleave neighbouring rows
    pair[i] = _mm256_unpacklo_ps(row[i], row[i + 1]);
    pair[i + 1] = _mm256_unpackhi_ps(row[i], row[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {  // gather 4-element columns within each 128-bit lane
    quad[i] = _mm256_shuffle_ps(pair[i], pair[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    quad[i + 1] = _mm256_shuffle_ps(pair[i], pair[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    quad[i + 2] = _mm256_shuffle_ps(pair[i + 1], pair[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    quad[i + 3] = _mm256_shuffle_ps(pair[i + 1], pair[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // join the low 128-bit lanes of rows 0–3 with those of rows 4–7, then the high lanes
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(to + i * to_stride, _mm256_permute2f128_ps(quad[i], quad[i + 4], 0x20));
    _mm256_storeu_ps(to + (i + 4) * to_stride, _mm256_permute2f128_ps(quad[i], quad[i + 4], 0x31));
  }
}

// Packed B: ⌈cols/NR⌉ slivers of depth × NR floats, holding op(B)[p0 : p0+depth, col0 :
// col0+cols]; columns past the end are zero. A row-major op(B) is copied row by row; a transposed
// one (columns contiguous) is transposed 8 × 8 at a time.
template <class Isa>
inline void pack_b(float* packed, const Operand& b, int64_t p0, int64_t depth, int64_t col0,
                   int64_t cols) {
  constexpr int64_t nr = 2 * Isa::kLanes;
  for (int64_t sliver = 0; sliver < cols; sliver += nr, packed += depth * nr) {
    const int64_t valid = std::min(nr, cols - sliver);
    if (valid < nr) std::fill(packed, packed + depth * nr, 0.0f);
    if (!b.transposed) {
      const float* source = b.data + p0 * b.stride + col0 + sliver;
      for (int64_t p = 0; p < depth; ++p, source += b.stride)
        if (valid == nr)
          std::memcpy(packed + p * nr, source, sizeof(float) * nr);  // fixed size: inlined
        else
          std::memcpy(packed + p * nr, source, sizeof(float) * valid);
      continue;
    }
    const float* columns = b.data + (col0 + sliver) * b.stride + p0;  // column j: + j·stride
    const int64_t whole_j = valid / 8 * 8, whole_p = depth / 8 * 8;
    for (int64_t j = 0; j < whole_j; j += 8)
      for (int64_t p = 0; p < whole_p; p += 8)
        transpose_8x8(columns + j * b.stride + p, b.stride, packed + p * nr + j, nr);
    for (int64_t j = 0; j < valid; ++j)  // the ragged rest, one value at a time
      for (int64_t p = j < whole_j ? whole_p : 0; p < depth; ++p)
        packed[p * nr + j] = columns[j * b.stride + p];
  }
}

// Per-thread packing buffers, grown once and reused (no allocation or page faults per call).
inline std::vector<float>& scratch(int which) {
  thread_local std::vector<float> buffers[2];
  return buffers[which];
}

// C[rows r0:r1, cols c0:c1] (+)= op(A)[r0:r1, :] · op(B)[:, c0:c1] on the calling thread.
// A row-major A is read in place, so its rows need no blocking and B is packed once per depth
// block and panel; a transposed A is packed kBlockRows rows at a time.
template <class Isa>
void gemm_block(int64_t r0, int64_t r1, int64_t c0, int64_t c1, int64_t k, const Operand& a,
                const Operand& b, float* c, int64_t ldc, bool accumulate) {
  constexpr int64_t mr = Isa::kRows, nr = 2 * Isa::kLanes;
  auto& a_pack = scratch(0);
  auto& b_pack = scratch(1);
  const bool packs_rows = copies_rows(a);
  const int64_t block_rows = a.transposed || packs_rows ? kBlockRows : r1 - r0;
  for (int64_t ic = r0; ic < r1; ic += block_rows) {
    const int64_t rows = std::min(block_rows, r1 - ic);
    for (int64_t pc = 0; pc < k; pc += kBlockDepth) {
      const int64_t depth = std::min(kBlockDepth, k - pc);
      const bool overwrite = !accumulate && pc == 0;
      if (a.transposed) {
        a_pack.resize(std::max<size_t>(a_pack.size(), (rows + mr - 1) / mr * mr * depth));
        pack_a_columns<Isa>(a_pack.data(), a, ic, rows, pc, depth);
      } else if (packs_rows) {
        a_pack.resize(std::max<size_t>(a_pack.size(), (rows + mr - 1) / mr * mr * kBlockDepth));
        pack_a_rows<Isa>(a_pack.data(), a, ic, rows, pc, depth);
      } else if (rows % mr != 0) {  // in place, but the ragged last sliver needs zero rows
        a_pack.resize(std::max<size_t>(a_pack.size(), mr * kBlockDepth));
        pack_a_rows<Isa>(a_pack.data(), a, ic + rows / mr * mr, rows % mr, pc, depth);
      }
      for (int64_t jc = c0; jc < c1; jc += kPanelCols) {
        const int64_t cols = std::min(kPanelCols, c1 - jc);
        b_pack.resize(std::max<size_t>(b_pack.size(), (cols + nr - 1) / nr * nr * depth));
        pack_b<Isa>(b_pack.data(), b, pc, depth, jc, cols);
        for (int64_t ir = 0; ir < rows; ir += mr) {
          const int64_t tile_rows = std::min(mr, rows - ir);
          for (int64_t jr = 0; jr < cols; jr += nr) {
            const float* b_sliver = b_pack.data() + jr * depth;
            float* c_tile = c + (ic + ir) * ldc + jc + jr;
            const int64_t tile_cols = std::min(nr, cols - jr);
            if (a.transposed) {
              tile_kernel<Isa, SliverLayout::ByColumn>(depth, a_pack.data() + ir * depth, 0,
                                                       b_sliver, nr, c_tile, ldc, overwrite,
                                                       tile_rows, tile_cols);
            } else {
              const bool in_place = !packs_rows && tile_rows == mr;
              const float* a_sliver = in_place     ? a.data + (ic + ir) * a.stride + pc
                                      : packs_rows ? a_pack.data() + ir * kBlockDepth
                                                   : a_pack.data();
              tile_kernel<Isa, SliverLayout::ByRow>(depth, a_sliver,
                                                    in_place ? a.stride : kBlockDepth, b_sliver, nr,
                                                    c_tile, ldc, overwrite, tile_rows, tile_cols);
            }
          }
        }
      }
    }
  }
}

// ---- thin products: up to kThinRows rows of A (decoding steps, short rows of tokens) ----------
// Packing B would copy the whole weight matrix to use it a handful of times, so B is read where it
// lies and A — a few rows — is the operand that gets copied.

// C[0:m, c0:c1] (+)= op(A) · op(B) for a row-major op(B), m ≤ kThinRows: A packed as ⌈m/MR⌉
// zero-padded slivers per depth block, B slivers read in place at B's row stride (a ragged last
// sliver is copied, to pad it with zero columns); each B sliver meets every A sliver while it is in
// L1, so B is read from memory once whatever m is.
template <class Isa>
void thin_block_rows_of_b(int64_t m, int64_t c0, int64_t c1, int64_t k, const Operand& a,
                          const Operand& b, float* c, int64_t ldc, bool accumulate) {
  constexpr int64_t mr = Isa::kRows, nr = 2 * Isa::kLanes;
  const int64_t padded_rows = (m + mr - 1) / mr * mr;
  auto& a_pack = scratch(0);
  auto& b_pack = scratch(1);
  a_pack.resize(std::max<size_t>(a_pack.size(), padded_rows * kBlockDepth));
  b_pack.resize(std::max<size_t>(b_pack.size(), nr * kBlockDepth));
  for (int64_t pc = 0; pc < k; pc += kBlockDepth) {
    const int64_t depth = std::min(kBlockDepth, k - pc);
    const bool overwrite = !accumulate && pc == 0;
    if (a.transposed)
      pack_a_columns<Isa>(a_pack.data(), a, 0, m, pc, depth);
    else
      pack_a_rows<Isa>(a_pack.data(), a, 0, m, pc, depth);
    for (int64_t jr = c0; jr < c1; jr += nr) {
      const int64_t tile_cols = std::min(nr, c1 - jr);
      const float* b_sliver = b.data + pc * b.stride + jr;
      int64_t b_stride = b.stride;
      if (tile_cols < nr) {
        pack_b<Isa>(b_pack.data(), b, pc, depth, jr, tile_cols);
        b_sliver = b_pack.data(), b_stride = nr;
      }
      for (int64_t ir = 0; ir < m; ir += mr) {
        const int64_t tile_rows = std::min(mr, m - ir);
        float* c_tile = c + ir * ldc + jr;
        if (a.transposed)
          tile_kernel<Isa, SliverLayout::ByColumn>(depth, a_pack.data() + ir * depth, mr, b_sliver,
                                                   b_stride, c_tile, ldc, overwrite, tile_rows,
                                                   tile_cols);
        else
          tile_kernel<Isa, SliverLayout::ByRow>(depth, a_pack.data() + ir * kBlockDepth,
                                                kBlockDepth, b_sliver, b_stride, c_tile, ldc,
                                                overwrite, tile_rows, tile_cols);
      }
    }
  }
}

// C[0:m, c0:c1] (+)= op(A) · op(B) for a transposed B (columns of op(B) contiguous — a tied LM
// head, or keys in attention), m ≤ kThinRows: each output is a dot product of a row of op(A) with a stored
// row of B, four B rows at a time so each A vector is loaded once per four products. A's rows are
// copied to a contiguous buffer first when A is transposed.
template <class Isa>
void thin_block_dots(int64_t m, int64_t c0, int64_t c1, int64_t k, const Operand& a,
                     const Operand& b, float* c, int64_t ldc, bool accumulate) {
  constexpr int64_t lanes = Isa::kLanes, group = 4;
  const float* a_rows = a.data;
  int64_t a_stride = a.stride;
  if (a.transposed) {
    auto& a_copy = scratch(0);
    a_copy.resize(std::max<size_t>(a_copy.size(), m * k));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) a_copy[i * k + p] = a.at(i, p);
    a_rows = a_copy.data(), a_stride = k;
  }
  const int64_t whole = k / lanes * lanes;
  for (int64_t j = c0; j < c1; j += group) {
    const int64_t valid = std::min(group, c1 - j);
    const float* b_row[group];
    for (int64_t t = 0; t < group; ++t) b_row[t] = b.data + (j + std::min(t, valid - 1)) * b.stride;
    for (int64_t i = 0; i < m; ++i) {
      const float* a_row = a_rows + i * a_stride;
      typename Isa::Reg acc[group] = {Isa::zero(), Isa::zero(), Isa::zero(), Isa::zero()};
      for (int64_t p = 0; p < whole; p += lanes) {
        const auto a_vector = Isa::load(a_row + p);
        for (int64_t t = 0; t < group; ++t)
          acc[t] = Isa::fma(a_vector, Isa::load(b_row[t] + p), acc[t]);
      }
      for (int64_t t = 0; t < valid; ++t) {
        float dot = Isa::sum(acc[t]);
        for (int64_t p = whole; p < k; ++p) dot += a_row[p] * b_row[t][p];
        float& out = c[i * ldc + j + t];
        out = accumulate ? out + dot : dot;
      }
    }
  }
}

}  // namespace detail

namespace detail {
// Units of work (row or column slivers) per thread at least: below ~2 MFLOP per thread the fork
// costs more than it saves.
inline int64_t grain(int64_t flops_per_unit) {
  return std::max<int64_t>(1, (int64_t(1) << 21) / std::max<int64_t>(flops_per_unit, 1));
}

// The thin path for any m (multiply sends it m ≤ kThinRows): columns split across threads.
template <class Isa>
void multiply_thin(int64_t m, int64_t n, int64_t k, const Operand& a, const Operand& b, float* c,
                   int64_t ldc, bool accumulate) {
  constexpr int64_t nr = 2 * Isa::kLanes;
  parallel_for(0, (n + nr - 1) / nr, grain(2 * k * nr * m), [&](int64_t begin, int64_t end) {
    const int64_t c0 = begin * nr, c1 = std::min(n, end * nr);
    if (b.transposed)
      thin_block_dots<Isa>(m, c0, c1, k, a, b, c, ldc, accumulate);
    else
      thin_block_rows_of_b<Isa>(m, c0, c1, k, a, b, c, ldc, accumulate);
  });
}

// The packed path: C cut into one block per thread along its longer side (rows in multiples of
// MR, columns in multiples of NR).
template <class Isa>
void multiply_packed(int64_t m, int64_t n, int64_t k, const Operand& a, const Operand& b, float* c,
                     int64_t ldc, bool accumulate) {
  constexpr int64_t mr = Isa::kRows, nr = 2 * Isa::kLanes;
  const bool split_rows = m / mr >= n / nr;
  const int64_t units = split_rows ? (m + mr - 1) / mr : (n + nr - 1) / nr;
  parallel_for(
      0, units, grain(2 * k * (split_rows ? mr * n : nr * m)), [&](int64_t begin, int64_t end) {
        if (split_rows)
          gemm_block<Isa>(begin * mr, std::min(m, end * mr), 0, n, k, a, b, c, ldc, accumulate);
        else
          gemm_block<Isa>(0, m, begin * nr, std::min(n, end * nr), k, a, b, c, ldc, accumulate);
      });
}
}  // namespace detail

// Products of at most this many rows take the thin path when op(B) is row-major; with a transposed
// B (dot products) only up to MR rows do. Measured on the 2-core Zen 4 machine (bench_matmul's
// thin_vs_packed, widths 128–768, 1 and 2 threads): with a row-major B the thin path was 5–25%
// ahead of packing B at every size from 13 to 384 rows, with bitwise the same result; with a
// transposed B it was ahead only up to MR rows.
constexpr int64_t kThinRows = 384;
template <class Isa>
constexpr bool takes_thin_path(int64_t m, bool b_transposed) {
  return m <= (b_transposed ? Isa::kRows : kThinRows);
}

// C (M × N, row stride ldc) = op(A) · op(B), or += when `accumulate`. Each block of C that a
// thread computes is an independent product, so there is no synchronisation inside it. Runs on
// the calling thread alone inside a parallel region.
template <class Isa = NativeIsa>
void multiply(int64_t m, int64_t n, int64_t k, const Operand& a, const Operand& b, float* c,
              int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  if (takes_thin_path<Isa>(m, b.transposed))
    detail::multiply_thin<Isa>(m, n, k, a, b, c, ldc, accumulate);
  else
    detail::multiply_packed<Isa>(m, n, k, a, b, c, ldc, accumulate);
}

#endif  // TLCR_HAVE_PACKED_GEMM

}  // namespace tlcr::packed
