package metrics

import (
	"bufio"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// family is one metric family in the text exposition format
// (https://prometheus.io/docs/instrumenting/exposition_formats/): a
// gauge, counter or histogram with its series, each with the constant
// label unit. It is ours rather than client_golang's: that library's
// package init (its default registry's collectors, procfs, protobuf) was
// paid at every start, with or without --metrics-dir. Not safe for
// concurrent use: Metrics guards it.
type family struct {
	name, help, kind string   // kind: gauge, counter, histogram
	labels           []string // the series' label names, sorted, without unit
	order            []int    // labels[i] is the order[i]-th name given to newFamily
	buckets          []float64
	series           map[string]*series // by label values, joined by \xff
}

// series is one labelled series: a value (gauge, counter) or a histogram
// (sum, per-bucket counts, count).
type series struct {
	values []string
	v      float64
	counts []uint64 // per bucket, not cumulative
	count  uint64
}

func newFamily(name, kind, help string, labels ...string) *family {
	f := &family{name: namespace + "_" + name, help: help, kind: kind, series: map[string]*series{}}
	for i := range labels {
		f.order = append(f.order, i)
	}
	slices.SortFunc(f.order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	for _, i := range f.order {
		f.labels = append(f.labels, labels[i])
	}
	return f
}

// with returns the series of the label values, given in the order of the
// names given to newFamily; it is made at zero on first use.
func (f *family) with(values ...string) *series {
	sorted := make([]string, len(values))
	for i, j := range f.order {
		sorted[i] = values[j]
	}
	key := strings.Join(sorted, "\xff")
	s := f.series[key]
	if s == nil {
		s = &series{values: sorted}
		if f.kind == "histogram" {
			s.counts = make([]uint64, len(f.buckets))
		}
		f.series[key] = s
	}
	return s
}

// observe adds v to a histogram series.
func (f *family) observe(s *series, v float64) {
	for i, le := range f.buckets {
		if v <= le {
			s.counts[i]++
			break
		}
	}
	s.v += v
	s.count++
}

// write puts the family in the text format: HELP, TYPE, then its series
// sorted by label values; nothing for a family without series.
func (f *family) write(w *bufio.Writer, unit string) {
	if len(f.series) == 0 {
		return
	}
	w.WriteString("# HELP " + f.name + " " + escape(f.help, false) + "\n")
	w.WriteString("# TYPE " + f.name + " " + f.kind + "\n")
	all := make([]*series, 0, len(f.series))
	for _, s := range f.series {
		all = append(all, s)
	}
	slices.SortFunc(all, func(a, b *series) int { return slices.Compare(a.values, b.values) })
	for _, s := range all {
		if f.kind != "histogram" {
			f.sample(w, "", s, unit, "", s.v)
			continue
		}
		var cum uint64
		for i, le := range f.buckets {
			cum += s.counts[i]
			f.sample(w, "_bucket", s, unit, formatFloat(le), float64(cum))
		}
		f.sample(w, "_bucket", s, unit, "+Inf", float64(s.count))
		f.sample(w, "_sum", s, unit, "", s.v)
		f.sample(w, "_count", s, unit, "", float64(s.count))
	}
}

// sample writes one line: name+suffix{labels,unit[,le]} value. The label
// names sort before "unit", as every one of ours does.
func (f *family) sample(w *bufio.Writer, suffix string, s *series, unit, le string, v float64) {
	w.WriteString(f.name + suffix + "{")
	for i, name := range f.labels {
		w.WriteString(name + `="` + escape(s.values[i], true) + `",`)
	}
	w.WriteString(`unit="` + escape(unit, true) + `"`)
	if le != "" {
		w.WriteString(`,le="` + le + `"`)
	}
	w.WriteString("} " + formatFloat(v) + "\n")
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// escape escapes a HELP text (\ and newline) or a label value (also ").
func escape(s string, value bool) string {
	if value {
		return valueEscaper.Replace(s)
	}
	return helpEscaper.Replace(s)
}

// formatFloat is the format's float: shortest form, +Inf, -Inf, NaN.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// writeFamilies writes fams sorted by name.
func writeFamilies(out io.Writer, unit string, fams []*family) error {
	sorted := slices.Clone(fams)
	slices.SortFunc(sorted, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	w := bufio.NewWriter(out)
	for _, f := range sorted {
		f.write(w, unit)
	}
	return w.Flush()
}
