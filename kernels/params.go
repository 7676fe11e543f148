package kernels

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Conv2DParams describes a 2-D convolution layer on NCHW data. The input is
// N×C×H×W, the filter K×(C/Groups)×R×S (PyTorch's OIHW) and the output
// N×K×P×Q, all contiguous row-major float32.
type Conv2DParams struct {
	N, C, H, W int // input batch, channels, height and width
	K, R, S    int // output channels, filter height and width

	StrideH, StrideW                     int // 0 means 1
	PadTop, PadBottom, PadLeft, PadRight int
	DilationH, DilationW                 int // 0 means 1
	Groups                               int // 0 means 1; C and K must be divisible by it
}

// shape is a validated Conv2DParams with defaults filled in and the derived
// sizes that every pass uses.
type shape struct {
	Conv2DParams
	P, Q   int // output height and width
	Cg, Kg int // channels per group, in and out
	HW, PQ int
	RS     int
	CRSg   int // rows of the column matrix of one group: Cg·R·S
	xLen   int // N·C·H·W
	yLen   int // N·K·P·Q
	wLen   int // K·Cg·R·S
}

// limit bounds every derived size, so that no index computation overflows
// an int on any platform.
const limit = math.MaxInt32

// field is a named parameter, for checkFields.
type field struct {
	name string
	v    *int
}

// checkFields checks the parameters of a layer shared by Conv2DParams and
// ConvTranspose2DParams: the strides, dilations and groups are 0 (which it
// sets to 1) to limit, the sizes 1 to limit, and groups divide C and K.
func checkFields(defaulted, sizes []field, c, k int, groups *int) error {
	for _, f := range defaulted {
		if *f.v < 0 || *f.v > limit {
			return fmt.Errorf("kernels: %s = %d, want 0 to %d (0 means 1)", f.name, *f.v, limit)
		}
		if *f.v == 0 {
			*f.v = 1
		}
	}
	for _, f := range sizes {
		if *f.v < 1 || *f.v > limit {
			return fmt.Errorf("kernels: %s = %d, want 1 to %d", f.name, *f.v, limit)
		}
	}
	if c%*groups != 0 || k%*groups != 0 {
		return fmt.Errorf("kernels: Groups = %d must divide C = %d and K = %d", *groups, c, k)
	}
	return nil
}

func (p Conv2DParams) validate() (shape, error) {
	s := shape{Conv2DParams: p}
	if err := checkFields(
		[]field{{"StrideH", &s.StrideH}, {"StrideW", &s.StrideW}, {"DilationH", &s.DilationH}, {"DilationW", &s.DilationW}, {"Groups", &s.Groups}},
		[]field{{"N", &s.N}, {"C", &s.C}, {"H", &s.H}, {"W", &s.W}, {"K", &s.K}, {"R", &s.R}, {"S", &s.S}},
		s.C, s.K, &s.Groups); err != nil {
		return s, err
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"PadTop", p.PadTop}, {"PadBottom", p.PadBottom}, {"PadLeft", p.PadLeft}, {"PadRight", p.PadRight}} {
		if f.v < 0 || f.v > limit {
			return s, fmt.Errorf("kernels: %s = %d, want 0 to %d", f.name, f.v, limit)
		}
	}
	s.Cg, s.Kg = p.C/s.Groups, p.K/s.Groups
	// Every operand below is at most a product of values ≤ 2³¹, evaluated in
	// int64 and checked before use.
	extH := int64(s.DilationH)*int64(p.R-1) + 1
	extW := int64(s.DilationW)*int64(p.S-1) + 1
	spanH := int64(p.H) + int64(p.PadTop) + int64(p.PadBottom)
	spanW := int64(p.W) + int64(p.PadLeft) + int64(p.PadRight)
	if spanH < extH || spanW < extW {
		return s, fmt.Errorf("kernels: empty output: padded input %d×%d is smaller than the dilated filter %d×%d",
			spanH, spanW, extH, extW)
	}
	s.P = int((spanH-extH)/int64(s.StrideH) + 1)
	s.Q = int((spanW-extW)/int64(s.StrideW) + 1)
	var err error
	sizes := []struct {
		name string
		dst  *int
		f    []int
	}{
		{"H·W", &s.HW, []int{p.H, p.W}},
		{"P·Q", &s.PQ, []int{s.P, s.Q}},
		{"R·S", &s.RS, []int{p.R, p.S}},
		{"C/Groups·R·S", &s.CRSg, []int{s.Cg, p.R, p.S}},
		{"N·C·H·W", &s.xLen, []int{p.N, p.C, p.H, p.W}},
		{"N·K·P·Q", &s.yLen, []int{p.N, p.K, s.P, s.Q}},
		{"K·C/Groups·R·S", &s.wLen, []int{p.K, s.Cg, p.R, p.S}},
	}
	for _, z := range sizes {
		if *z.dst, err = product(z.name, z.f...); err != nil {
			return s, err
		}
	}
	return s, nil
}

// product multiplies positive factors, or reports that the product exceeds
// limit.
func product(name string, f ...int) (int, error) {
	v := int64(1)
	for _, x := range f {
		v *= int64(x)
		if v > limit {
			return 0, fmt.Errorf("kernels: %s overflows: the product of %v exceeds %d", name, f, limit)
		}
	}
	return int(v), nil
}

// ErrOverlap is wrapped by the error of a call whose output overlaps
// another of its arguments, or one of whose arguments overlaps the
// workspace of WithWorkspace: the call would read what it has overwritten.
var ErrOverlap = errors.New("arguments overlap")

// arg is a slice argument of a call with the length the plan expects.
type arg struct {
	name     string
	x        []float32
	want     int
	what     string // how want is made up, for the message
	optional bool   // nil is allowed
	out      bool   // the call writes it
}

// checkArgs reports the first argument whose length is not the expected
// one, then, with checkOverlap, any overlap among the arguments and ws.
func checkArgs(method string, ws []float32, args ...arg) error {
	for _, a := range args {
		switch {
		case a.x == nil && a.optional:
		case a.x == nil:
			return fmt.Errorf("kernels: %s: %s is nil, want %d floats (%s)", method, a.name, a.want, a.what)
		case len(a.x) != a.want:
			return fmt.Errorf("kernels: %s: len(%s) = %d, want %d (%s)", method, a.name, len(a.x), a.want, a.what)
		}
	}
	return checkOverlap(method, ws, args...)
}

// checkOverlap reports an output that shares memory with another argument,
// or an argument that shares memory with ws, the caller's workspace.
func checkOverlap(method string, ws []float32, args ...arg) error {
	for i, a := range args {
		if overlaps(a.x, ws) {
			return fmt.Errorf("kernels: %s: %s overlaps the workspace of WithWorkspace: %w", method, a.name, ErrOverlap)
		}
		if !a.out {
			continue
		}
		for j, b := range args {
			if j != i && overlaps(a.x, b.x) {
				return fmt.Errorf("kernels: %s: %s overlaps %s: %w", method, a.name, b.name, ErrOverlap)
			}
		}
	}
	return nil
}

// overlaps reports whether a and b share an element.
func overlaps(a, b []float32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	return a0 < b0+uintptr(len(b))*4 && b0 < a0+uintptr(len(a))*4
}

// checkLen is checkArgs for one required argument.
func checkLen(method, name string, x []float32, want int, what string) error {
	return checkArgs(method, nil, arg{name: name, x: x, want: want, what: what})
}
