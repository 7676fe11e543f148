package kernels

import "fmt"

// Correlate2D sets out ((h−r+1) × (w−s+1)) to the "valid" cross-correlation
// of the h×w plane a with the r×s filter k:
//
//	out[i][j] = Σ_{u<r, v<s} a[i+u][j+v] · k[u][v]
//
// It runs on the same multiply as Conv2D.Forward, with one channel.
func Correlate2D(out, a []float32, h, w int, k []float32, r, s int) error {
	if r > h || s > w {
		return fmt.Errorf("kernels: Correlate2D: filter %d×%d is larger than the %d×%d plane", r, s, h, w)
	}
	c, err := NewConv2D(Conv2DParams{N: 1, C: 1, H: h, W: w, K: 1, R: r, S: s}, WithThreads(1))
	if err != nil {
		return fmt.Errorf("kernels: Correlate2D: %w", err)
	}
	if err := checkPlane("Correlate2D", a, h, w, k, r, s); err != nil {
		return err
	}
	return c.Forward(out, a, k, nil)
}

// FullConv2D sets out ((h+r−1) × (w+s−1)) to the "full" convolution (a true
// convolution, the filter flipped) of the h×w plane a with the r×s filter k:
//
//	out[i][j] = Σ_{u<r, v<s} a[i−u][j−v] · k[u][v], a read as 0 outside.
//
// This is how backward-data treats dY; it runs on the same multiply, as a
// correlation with the rotated filter over a padded by r−1 and s−1.
func FullConv2D(out, a []float32, h, w int, k []float32, r, s int) error {
	c, err := NewConv2D(Conv2DParams{N: 1, C: 1, H: h, W: w, K: 1, R: r, S: s,
		PadTop: r - 1, PadBottom: r - 1, PadLeft: s - 1, PadRight: s - 1}, WithThreads(1))
	if err != nil {
		return fmt.Errorf("kernels: FullConv2D: %w", err)
	}
	if err := checkPlane("FullConv2D", a, h, w, k, r, s); err != nil {
		return err
	}
	if err := checkLen("FullConv2D", "out", out, (h+r-1)*(w+s-1), "(h+r−1)·(w+s−1)"); err != nil {
		return err
	}
	rot := make([]float32, len(k))
	for i, v := range k {
		rot[len(k)-1-i] = v
	}
	return c.Forward(out, a, rot, nil)
}

func checkPlane(fn string, a []float32, h, w int, k []float32, r, s int) error {
	if err := checkLen(fn, "a", a, h*w, "h·w"); err != nil {
		return err
	}
	return checkLen(fn, "k", k, r*s, "r·s")
}
