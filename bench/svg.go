package main

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// barChart is a grouped bar chart with dashed reference lines, written as
// SVG by svg.
//
// It is drawn here rather than with gonum.org/v1/plot: go run ./bench must
// write the plots itself on a fresh machine, and the root module may require
// only x/sys and testify, so a plotting library would need a module and a
// command of its own. Bars, dashed lines, axes and text are all these charts
// need. The output depends only on the chart's fields, so a rerun with the
// same numbers gives the same bytes.
type barChart struct {
	title, yLabel string
	groups        []string    // the x axis: one group of bars each
	series        []string    // the legend: one bar in every group each
	values        [][]float64 // [series][group]; NaN leaves the bar out
	refs          []refLine
}

// refLine is a dashed horizontal line across the chart, such as a ceiling.
type refLine struct {
	label string
	value float64
}

// Layout, in pixels.
const (
	svgBarW     = 9
	svgGroupGap = 10
	svgPlotH    = 300
	svgTop      = 56 // title and legend
	svgLeft     = 64
	svgRight    = 190 // the reference lines' labels
)

// svgColors are the series' fills (Tableau 10), in order.
var svgColors = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"}

func (c *barChart) svg() []byte {
	groupW := len(c.series)*svgBarW + svgGroupGap
	plotW := len(c.groups) * groupW
	// Long or many labels are turned, so that they do not run into each other.
	turn := false
	for _, g := range c.groups {
		turn = turn || 6*len(g) > groupW
	}
	bottom := 36
	if turn {
		bottom = 72
	}
	// A narrow chart still has room for its title and legend.
	width := max(svgLeft+plotW+svgRight, svgLeft+8*utf8.RuneCountInString(c.title), svgLeft+110*len(c.series))
	height := svgTop + svgPlotH + bottom
	top := 0.0
	for _, vs := range c.values {
		for _, v := range vs {
			if !math.IsNaN(v) {
				top = max(top, v)
			}
		}
	}
	for _, r := range c.refs {
		top = max(top, r.value)
	}
	step := niceStep(top * 1.05 / 5)
	top = math.Ceil(top*1.05/step) * step
	y := func(v float64) float64 { return svgTop + svgPlotH - svgPlotH*max(v, 0)/top }

	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	p(`<title>%s</title>`+"\n", esc(c.title))
	p(`<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	p(`<text class="title" x="%d" y="20" font-size="14">%s</text>`+"\n", svgLeft, esc(c.title))

	var ticks []float64
	for i := 0; float64(i)*step <= top+step/2; i++ {
		ticks = append(ticks, float64(i)*step)
	}
	p(`<g class="axis" stroke="#ddd">` + "\n")
	for _, v := range ticks {
		p(`<line x1="%d" y1="%s" x2="%d" y2="%s"/>`+"\n", svgLeft, num(y(v)), svgLeft+plotW, num(y(v)))
	}
	p("</g>\n")
	p(`<g class="ticks" text-anchor="end">` + "\n")
	for _, v := range ticks {
		p(`<text x="%d" y="%s">%s</text>`+"\n", svgLeft-6, num(y(v)+4), strconv.FormatFloat(v, 'g', 4, 64))
	}
	p("</g>\n")
	p(`<text class="ylabel" transform="rotate(-90 16 %d)" x="16" y="%d" text-anchor="middle">%s</text>`+"\n",
		svgTop+svgPlotH/2, svgTop+svgPlotH/2, esc(c.yLabel))

	p(`<g class="bars">` + "\n")
	for s, vs := range c.values {
		for g, v := range vs {
			if math.IsNaN(v) {
				continue
			}
			x := svgLeft + g*groupW + svgGroupGap/2 + s*svgBarW
			p(`<rect class="bar" x="%d" y="%s" width="%d" height="%s" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
				x, num(y(v)), svgBarW-1, num(svgTop+svgPlotH-y(v)), svgColors[s%len(svgColors)],
				esc(c.groups[g]), esc(c.series[s]), num(v))
		}
	}
	p("</g>\n")

	p(`<g class="refs" stroke="#333" stroke-dasharray="6 4">` + "\n")
	for _, r := range c.refs {
		p(`<line x1="%d" y1="%s" x2="%d" y2="%s"/>`+"\n", svgLeft, num(y(r.value)), svgLeft+plotW, num(y(r.value)))
	}
	p("</g>\n")
	p(`<g class="reflabels">` + "\n")
	for _, r := range c.refs {
		p(`<text x="%d" y="%s">%s %s</text>`+"\n", svgLeft+plotW+6, num(y(r.value)+4), esc(r.label), num(r.value))
	}
	p("</g>\n")

	p(`<g class="labels" text-anchor="middle">` + "\n")
	for g, name := range c.groups {
		x, ly := svgLeft+g*groupW+groupW/2, svgTop+svgPlotH+16
		if turn {
			p(`<text x="%d" y="%d" text-anchor="end" transform="rotate(-45 %d %d)">%s</text>`+"\n", x, ly, x, ly, esc(name))
		} else {
			p(`<text x="%d" y="%d">%s</text>`+"\n", x, ly, esc(name))
		}
	}
	p("</g>\n")

	p(`<g class="legend">` + "\n")
	for s, name := range c.series {
		x := svgLeft + s*110
		p(`<rect x="%d" y="32" width="10" height="10" fill="%s"/><text x="%d" y="41">%s</text>`+"\n",
			x, svgColors[s%len(svgColors)], x+14, esc(name))
	}
	p("</g>\n</svg>\n")
	return []byte(b.String())
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5} {
		if x <= m*pow {
			return m * pow
		}
	}
	return 10 * pow
}

// num formats a coordinate or value with at most one decimal.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
