// Package simdgonum is a drop-in BLAS implementation for gonum whose
// single-precision matrix multiply, Sgemm, runs on simdconv's
// assembly kernels. Every other routine is gonum's own, through the
// embedded gonum.Implementation.
//
// One line switches a program's blas32 calls over:
//
//	blas32.Use(simdgonum.Implementation{})
//
// Libraries that take a BLAS implementation accept it too; gorgonia, for
// example, with gorgonia.Use(simdgonum.Implementation{}).
//
// Sgemm accepts exactly the arguments gonum's Sgemm accepts, and panics with
// gonum's message on the others: it hands any call gonum would reject to
// gonum, which then panics. It follows gonum where BLAS leaves room: when m
// or n is zero nothing is read or written, and when alpha or k is zero C is
// only scaled by beta (set to zero when beta is zero). In that case A and B
// are not read, as reference BLAS specifies; gonum's loops still read them,
// so an Inf or NaN in A or B can reach C there and not here.
//
// Only Sgemm is replaced. The other level-3 routines (Ssymm, Ssyrk,
// Ssyr2k, Strmm, Strsm) touch one triangle of a matrix and would need their
// own blocked drivers around Sgemm to gain anything; they stay gonum's.
package simdgonum
