package simdconv

// finiteChunk is the run of x that each dot product of AllFinite covers, a
// multiple of engine.Slack as ShiftedDots needs.
const finiteChunk = 1024

var finiteZeros [finiteChunk]float32

// AllFinite reports whether x holds neither a NaN nor an infinity. Σ 0·x[i]
// is NaN exactly when it holds one, so the ISA's dots kernel checks a chunk
// of x per tap at the speed of reading it.
func (d driver) AllFinite(x []float32) bool {
	var off [16]int
	var dots [16]float32
	n := len(x) / finiteChunk * finiteChunk
	for i := 0; i < n; {
		taps := 0
		for ; taps < len(off) && i < n; taps, i = taps+1, i+finiteChunk {
			off[taps] = i
		}
		d.ShiftedDots(dots[:taps], finiteZeros[:], x, off[:taps], finiteChunk)
		for _, v := range dots[:taps] {
			if v != v {
				return false
			}
		}
	}
	for _, v := range x[n:] {
		if v-v != 0 {
			return false
		}
	}
	return true
}
