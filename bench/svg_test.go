package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// svgParts parses an SVG with encoding/xml, so it fails on anything not
// well-formed, and returns its bars' classes and every text it shows.
func svgParts(t *testing.T, svg []byte) (bars int, texts []string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	var inText bool
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return bars, texts
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
			for _, a := range tok.Attr {
				if tok.Name.Local == "rect" && a.Name.Local == "class" && a.Value == "bar" {
					bars++
				}
			}
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		case xml.EndElement:
			inText = false
		}
	}
}

func TestBarChartSVG(t *testing.T) {
	c := &barChart{
		title:  `a <chart> & "title"`,
		yLabel: "GFLOP/s",
		groups: []string{"L1", "L2", "L3"},
		series: []string{"fwd", "bwd-data"},
		values: [][]float64{{10, 20.25, 30}, {15, math.NaN(), 5}},
		refs:   []refLine{{"FMA ceiling", 40}},
	}
	svg := c.svg()
	if !bytes.Equal(svg, c.svg()) {
		t.Error("two calls gave different SVGs")
	}
	bars, texts := svgParts(t, svg)
	if bars != 5 {
		t.Errorf("%d bars, want 5: six values, one NaN", bars)
	}
	for _, want := range []string{c.title, "GFLOP/s", "L1", "L2", "L3", "fwd", "bwd-data", "FMA ceiling 40", "0", "50"} {
		if !slices.Contains(texts, want) {
			t.Errorf("no text %q among %q", want, texts)
		}
	}
	if !strings.Contains(string(svg), `<title>L2 fwd: 20.3</title>`) || !strings.Contains(string(svg), `stroke-dasharray`) {
		t.Errorf("want a bar titled with its value and a dashed line:\n%s", svg)
	}
}

func TestWritePlots(t *testing.T) {
	cfg := &config{isas: []string{"avx2", "generic"}, threads: []int{1, 2}, layers: ptrs(allLayers[:3]),
		passes: []pass{passForward, passBackwardData}}
	r := newResults(cfg)
	for _, isa := range cfg.isas {
		r.peaks[peakKey{isa, 1}] = 100
		for _, l := range cfg.layers {
			for _, p := range cfg.passes {
				for _, th := range cfg.threads {
					r.add(&cell{layer: l, pass: p, isa: isa, threads: th, gflops: float64(10 * th)})
				}
			}
		}
	}
	base := filepath.Join(t.TempDir(), "2026-01-02-amd64-test")
	paths, err := writePlots(base, r, cpuID{name: "Test CPU"}, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{base + "-avx2.svg", base + "-generic.svg", base + "-threads-avx2.svg"}
	if !slices.Equal(paths, want) {
		t.Fatalf("paths = %q, want %q", paths, want)
	}
	for i, wantBars := range []int{3 * 2, 3 * 2, 3 * 2 * 2} {
		svg, err := os.ReadFile(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		bars, texts := svgParts(t, svg)
		if bars != wantBars {
			t.Errorf("%s: %d bars, want %d", paths[i], bars, wantBars)
		}
		wantTexts := []string{"L1", "fwd", "FMA ceiling 100"}
		if i == 2 {
			wantTexts = []string{"L1 fwd", "L3 bwd-data", "1 thread", "2 threads", "FMA ceiling 100", "2 × FMA ceiling 200"}
		}
		for _, w := range wantTexts {
			if !slices.Contains(texts, w) {
				t.Errorf("%s: no text %q among %q", paths[i], w, texts)
			}
		}
	}
}
