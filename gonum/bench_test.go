package simdgonum

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BenchmarkSgemm compares gonum's Sgemm with the drop-in on n×n×n
// products. cmd/sgemmtable runs it and writes the table to results/.
func BenchmarkSgemm(b *testing.B) {
	impls := []struct {
		name string
		blas blas.Float32
	}{{"gonum", gonum.Implementation{}}, {"simdgonum", Implementation{}}}
	r := rand.New(rand.NewPCG(9, 10))
	for _, impl := range impls {
		for _, n := range []int{64, 128, 256, 512, 1024, 2048} {
			b.Run(fmt.Sprintf("impl=%s/n=%d", impl.name, n), func(b *testing.B) {
				x, _ := matrix(r, n, n, 0)
				y, _ := matrix(r, n, n, 0)
				z := make([]float32, n*n)
				b.ReportAllocs()
				for b.Loop() {
					impl.blas.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, x, n, y, n, 0, z, n)
				}
				b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkSsyrk compares gonum's Ssyrk with the drop-in on the lower
// triangle of C = A·Aᵀ, A n×n; a rank-k update costs n·n·k FLOPs.
func BenchmarkSsyrk(b *testing.B) {
	impls := []struct {
		name string
		blas blas.Float32
	}{{"gonum", gonum.Implementation{}}, {"simdgonum", Implementation{}}}
	r := rand.New(rand.NewPCG(17, 18))
	for _, impl := range impls {
		for _, n := range []int{64, 256, 1024} {
			b.Run(fmt.Sprintf("impl=%s/n=%d", impl.name, n), func(b *testing.B) {
				x, _ := matrix(r, n, n, 0)
				z := make([]float32, n*n)
				b.ReportAllocs()
				for b.Loop() {
					impl.blas.Ssyrk(blas.Lower, blas.NoTrans, n, n, 1, x, n, 0, z, n)
				}
				b.ReportMetric(float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
