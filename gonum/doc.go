// Package simdgonum is a drop-in BLAS implementation for gonum whose
// single-precision matrix multiply, Sgemm, and symmetric rank updates,
// Ssyrk and Ssyr2k, run on simdconv's assembly kernels. Every other
// routine is gonum's own, through the embedded gonum.Implementation.
//
// One line switches a program's blas32 calls over:
//
//	blas32.Use(simdgonum.Implementation{})
//
// Libraries that take a BLAS implementation accept it too; gorgonia, for
// example, with gorgonia.Use(simdgonum.Implementation{}).
//
// Each routine accepts exactly the arguments gonum's accepts, and panics
// with gonum's message on the others: it hands any call gonum would reject
// to gonum, which then panics. It follows gonum where BLAS leaves room:
// when an output dimension is zero nothing is read or written, and when
// alpha or k is zero C is only scaled by beta (set to zero when beta is
// zero). In that case Sgemm does not read A and B, as reference BLAS
// specifies; gonum's loops still read them, so an Inf or NaN in A or B can
// reach C there and not here.
//
// Ssyrk and Ssyr2k halve the triangle of C recursively: the rectangle
// between the two halves is one Sgemm, and only small diagonal blocks are
// computed whole, through a tile, before their triangle is copied out. The
// other level-3 routines stay gonum's: Ssymm would have to copy A, square,
// before Sgemm could read it, and Strmm and Strsm need a triangular kernel
// on their diagonal blocks, which simdconv does not have.
package simdgonum
