package simdconv

import "fmt"

// A stride-2 layer reads every second column of its input and writes its
// gradient into every second column of dX. GatherRows and ScatterRows move
// rows between that stride and a stride of 1: into phase planes, out of a
// stencil computed at every column, back into dX. At a stride of 2 the
// ISA's kernels deinterleave and interleave whole vectors of a row; the
// rest of a row, and other strides, are a Go loop.

// GatherRows sets dst[r*dstStride+j] = src[r*srcStride+j*step] for
// r < rows and j < n. It panics unless dst and src hold what that reads
// and writes.
func (driver) GatherRows(dst, src []float32, rows, n, step, dstStride, srcStride int) {
	stridedRows("GatherRows", true, dst, src, rows, n, step, dstStride, srcStride)
}

// ScatterRows sets dst[r*dstStride+j*step] = src[r*srcStride+j] for
// r < rows and j < n. The floats of dst between those keep their values,
// but a kernel may read and write them back: no other goroutine may write
// them meanwhile. It panics unless dst and src hold what that reads and
// writes.
func (driver) ScatterRows(dst, src []float32, rows, n, step, dstStride, srcStride int) {
	stridedRows("ScatterRows", false, dst, src, rows, n, step, dstStride, srcStride)
}

// stridedRows is GatherRows (gather) or ScatterRows: the strided side is
// src or dst.
func stridedRows(fn string, gather bool, dst, src []float32, rows, n, step, dstStride, srcStride int) {
	if rows <= 0 || n <= 0 {
		return
	}
	dn, sn, wide, kid := (n-1)*step+1, n, len(dst), kernelSets[current].scatter2
	if gather {
		dn, sn, wide, kid = n, (n-1)*step+1, len(src), kernelSets[current].gather2
	}
	if step < 1 || !fits(len(dst), rows, dstStride, dn) || !fits(len(src), rows, srcStride, sn) {
		panic(fmt.Sprintf("simdconv: %s: %d rows of %d at step %d, strides %d, %d outside len(dst) = %d, len(src) = %d",
			fn, rows, n, step, dstStride, srcStride, len(dst), len(src)))
	}
	// Rows that follow on from each other on both sides (a phase plane of
	// a plane of even width, no padding) are one row: the kernel's blocks
	// run on past a row's end instead of leaving each short row's rest to
	// the Go loop.
	strided, plain := srcStride, dstStride
	if !gather {
		strided, plain = dstStride, srcStride
	}
	if rows > 1 && plain == n && strided == n*step {
		rows, n, dstStride, srcStride = 1, rows*n, 0, 0
	}
	vr, vn := 0, 0
	switch step {
	case 1:
		for r := range rows {
			copy(dst[r*dstStride:][:n], src[r*srcStride:][:n])
		}
		return
	case 2:
		vr, vn = strided2Kernel(kid, dst, src, rows, n, dstStride, srcStride, wide)
	}
	// The kernel did the first vn floats of rows [0, vr): when that is
	// all of n, the loop starts past those rows.
	first := 0
	if vn == n {
		first = vr
	}
	for r := first; r < rows; r++ {
		j0 := vn
		if r >= vr {
			j0 = 0
		}
		d, s := dst[r*dstStride:], src[r*srcStride:]
		if gather { // a loop each: one index product a float, not two
			for j := j0; j < n; j++ {
				d[j] = s[j*step]
			}
		} else {
			for j := j0; j < n; j++ {
				d[j*step] = s[j]
			}
		}
	}
}

// strided2Kernel runs kernel kid (famGather2 or famScatter2) on the first
// vr rows, vn floats each (n rounded down to the kernel's width: all of n
// for a kernel of width 1, which does the rest through masks), and returns
// vr and vn. The kernel touches up to 2·vn floats of a row on the strided
// side, one past the last that the row needs; a row whose run would leave
// that side's wide floats (the last, of a slice that ends at its row) is
// left to the caller's loop. A scatter writes back the floats it touches,
// so it stops a block short of n: the float past a row's last is the
// start of a row that another thread may be writing (backward-data's
// phases of a stride of 3×2 on NEON lost a float of dX that way).
func strided2Kernel(kid kernelID, dst, src []float32, rows, n, dstStride, srcStride, wide int) (vr, vn int) {
	if kid == noKernel {
		return 0, 0
	}
	last := n
	if kernelTable[kid].family == famScatter2 {
		last = n - 1
	}
	vn = last &^ (kernelTable[kid].nr - 1) // a power of two (TestKernelSets)
	if vn == 0 {
		return 0, 0
	}
	wideStride := srcStride
	if kernelTable[kid].family == famScatter2 {
		wideStride = dstStride
	}
	switch {
	case 2*vn > wide:
		return 0, 0
	case wideStride == 0:
		vr = rows
	default: // (vr−1)·wideStride + 2·vn ≤ wide
		vr = min(rows, (wide-2*vn)/wideStride+1)
	}
	if vr > 0 {
		callStrided2(kid, dst, src, vr, vn, dstStride, srcStride)
	}
	return vr, vn
}
