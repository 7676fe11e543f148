package kernels

// The float64 reference: each pass's defining sum, loop by loop, with the
// input read as zero outside the image.

// refTerms calls f for every (n, k, c, p, q, r, s) term of the convolution
// sum whose input position (h, w) is inside the image, with the flat
// indices of y, x and w.
func refTerms(s shape, f func(yi, xi, wi int)) {
	refTermsPadded(s, func(yi, xi, wi int) {
		if xi >= 0 {
			f(yi, xi, wi)
		}
	})
}

func refForward(s shape, x, w, bias []float32, relu bool) []float64 {
	y := make([]float64, s.yLen)
	refTerms(s, func(yi, xi, wi int) { y[yi] += float64(x[xi]) * float64(w[wi]) })
	for i := range y {
		if bias != nil {
			y[i] += float64(bias[i/s.PQ%s.K])
		}
		if relu && y[i] < 0 {
			y[i] = 0
		}
	}
	return y
}

func refBackwardData(s shape, dy, w []float32) []float64 {
	dx := make([]float64, s.xLen)
	refTerms(s, func(yi, xi, wi int) { dx[xi] += float64(dy[yi]) * float64(w[wi]) })
	return dx
}

func refBackwardFilter(s shape, dy, x []float32) (dw, db []float64) {
	dw = make([]float64, s.wLen)
	refTerms(s, func(yi, xi, wi int) { dw[wi] += float64(dy[yi]) * float64(x[xi]) })
	db = make([]float64, s.K)
	for i, v := range dy {
		db[i/s.PQ%s.K] += float64(v)
	}
	return dw, db
}

// refTermsPadded is refTerms with the padding as explicit zeros: it also
// calls f for the terms whose input position is outside the image, with xi
// = −1.
func refTermsPadded(s shape, f func(yi, xi, wi int)) {
	for n := 0; n < s.N; n++ {
		for k := 0; k < s.K; k++ {
			g := k / s.Kg
			for cg := 0; cg < s.Cg; cg++ {
				c := g*s.Cg + cg
				for p := 0; p < s.P; p++ {
					for q := 0; q < s.Q; q++ {
						for r := 0; r < s.R; r++ {
							h := p*s.StrideH + r*s.DilationH - s.PadTop
							for t := 0; t < s.S; t++ {
								w := q*s.StrideW + t*s.DilationW - s.PadLeft
								xi := -1
								if h >= 0 && h < s.H && w >= 0 && w < s.W {
									xi = ((n*s.C+c)*s.H+h)*s.W + w
								}
								f(((n*s.K+k)*s.P+p)*s.Q+q, xi, ((k*s.Cg+cg)*s.R+r)*s.S+t)
							}
						}
					}
				}
			}
		}
	}
}
