package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/models"
)

// archReport is inspect's JSON for an architecture.
type archReport struct {
	Architecture string     `json:"architecture"`
	Width        float64    `json:"width,omitempty"`
	Input        ir.Shape   `json:"input"`
	Params       int64      `json:"params"`
	MACs         int64      `json:"macs"`
	Layers       []ir.Layer `json:"layers"`
}

func runInspect(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	width := fs.Float64("width", 0, "width multiplier of a MobileNet (default: 1)")
	input := fs.Int("input", 0, "input image side (default: the architecture's, 224 for most)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("want one FILE.glimpse or architecture (one of %s)", strings.Join(models.Names(), ", "))
	}
	target := pos[0]
	if _, err := os.Stat(target); err == nil || strings.HasSuffix(target, ".glimpse") {
		return inspectFile(target, *asJSON, stdout)
	}
	g, err := models.Build(target, models.Options{Width: *width, Input: *input})
	if err != nil {
		return err
	}
	layers, totals, err := g.Report()
	if err != nil {
		return err
	}
	r := archReport{Architecture: target, Width: *width, Input: g.InputShape, Params: totals.Params, MACs: totals.MACs, Layers: layers}
	if *asJSON {
		return writeJSON(stdout, r)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\top\tkernel\tstride\tpadding\toutput\tparams\tMACs\t")
	for _, l := range layers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Name, l.Op, pair(l.Kernel), pair(l.Stride), pads(l.Padding),
			l.Output, thousands(l.Params), thousands(l.MACs))
	}
	fmt.Fprintf(tw, "total\t\t\t\t\t\t%s\t%s\t\n", thousands(totals.Params), thousands(totals.MACs))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s at %v: %s parameters, %.1fM multiply-accumulates\n", target, g.InputShape,
		thousands(totals.Params), float64(totals.MACs)/1e6)
	return nil
}

func pair(p [2]int) string {
	if p == [2]int{} {
		return "-"
	}
	return fmt.Sprintf("%dx%d", p[0], p[1])
}

func pads(p ir.Pads) string {
	if p == (ir.Pads{}) {
		return "-"
	}
	return fmt.Sprintf("%d,%d,%d,%d", p[0], p[1], p[2], p[3])
}

// thousands writes 3504872 as 3,504,872.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fileReport is inspect's JSON for a model file.
type fileReport struct {
	File     string          `json:"file"`
	Version  uint32          `json:"version"`
	Metadata map[string]any  `json:"metadata"`
	Tensors  []tensorSummary `json:"tensors"`
	Bytes    int64           `json:"bytes"`
	// Params and MACs are the network's totals, counted as for an
	// architecture (the course page's explorer shows the same for a file).
	Params int64 `json:"params"`
	MACs   int64 `json:"macs"`
}

type tensorSummary struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
	Bytes int64  `json:"bytes"`
}

func inspectFile(path string, asJSON bool, stdout io.Writer) error {
	info, err := format.InspectFile(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	g, err := format.ReadFile(path)
	if err != nil {
		return err
	}
	_, totals, err := g.Report()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r := fileReport{File: path, Version: info.Version, Metadata: map[string]any{}, Bytes: st.Size(), Params: totals.Params, MACs: totals.MACs}
	for _, kv := range info.Metadata {
		r.Metadata[kv.Key] = kv.Value
	}
	for _, t := range info.Tensors {
		r.Tensors = append(r.Tensors, tensorSummary{t.Name, t.DType.String(), t.Shape, t.Bytes})
	}
	if asJSON {
		return writeJSON(stdout, r)
	}
	fmt.Fprintf(stdout, "%s: Glimpse model file version %d, %s bytes, %d tensors, %s parameters, %s multiply-accumulates\n", path, info.Version,
		thousands(st.Size()), len(info.Tensors), thousands(r.Params), thousands(r.MACs))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, kv := range info.Metadata {
		v := fmt.Sprint(kv.Value)
		if len(v) > 100 {
			v = v[:97] + "..."
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", kv.Key, kv.TypeName(), v)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  tensor\tdtype\tshape\tbytes")
	for _, t := range r.Tensors {
		fmt.Fprintf(tw, "  %s\t%s\t%v\t%s\n", t.Name, t.DType, t.Shape, thousands(t.Bytes))
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
