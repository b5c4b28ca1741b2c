package convert

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// ParsePreprocess reads a preprocessing spec (the --preprocess flag; the
// grammar is in core/format/FORMAT.md, section 8) and applies it over
// base, the preprocessing the source file implies, for a network whose
// input has the given shape. What the spec does not mention keeps base's
// value; a spec that mentions normalisation at all replaces base's scale
// and offset entirely, so no half of an old mean/std pair survives.
//
// The result is one the model file accepts: the resize length fits the
// input, the numbers are finite, and the channel order fits the input's
// channels.
func ParsePreprocess(spec string, base ir.Preprocess, input ir.Shape) (ir.Preprocess, error) {
	p, err := parsePreprocess(spec, base, input)
	if err != nil {
		return ir.Preprocess{}, fmt.Errorf("--preprocess %q: %w", spec, err)
	}
	return p, nil
}

// preprocessKeys are the spec's keys, in the order FORMAT.md lists them.
func preprocessKeys() []string {
	return []string{"resize", "crop", "mean", "std", "scale", "offset", "range", "channels"}
}

func parsePreprocess(spec string, p ir.Preprocess, input ir.Shape) (ir.Preprocess, error) {
	if strings.TrimSpace(spec) == "" {
		return p, fmt.Errorf("empty spec")
	}
	vals := map[string]string{}
	for i, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "torchvision" {
			if i != 0 {
				return p, fmt.Errorf("the preset torchvision must come first, before the settings it is a base for")
			}
			p = ir.TorchvisionPreprocess(input[0], input[1])
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" {
			return p, fmt.Errorf("%q is not key=value (keys: %s; or the preset torchvision)", item, strings.Join(preprocessKeys(), ", "))
		}
		known := false
		for _, key := range preprocessKeys() {
			known = known || key == k
		}
		if !known {
			return p, fmt.Errorf("unknown key %q (keys: %s)", k, strings.Join(preprocessKeys(), ", "))
		}
		if _, dup := vals[k]; dup {
			return p, fmt.Errorf("%s is given twice", k)
		}
		vals[k] = v
	}

	if v, ok := vals["channels"]; ok {
		switch strings.ToUpper(v) {
		case "RGB", "BGR":
			if input[2] != 3 {
				return p, fmt.Errorf("channels=%s for an input of %d channels", v, input[2])
			}
		case "L":
			if input[2] != 1 {
				return p, fmt.Errorf("channels=L (grey) for an input of %d channels", input[2])
			}
		default:
			return p, fmt.Errorf("channels=%s: want RGB, BGR or L", v)
		}
		p.Channels = strings.ToUpper(v)
	}

	if v, ok := vals["resize"]; ok {
		policy, arg, hasArg := strings.Cut(v, ":")
		switch {
		case policy == ir.ResizeStretch && !hasArg:
			p.Resize, p.ResizeTo, p.Crop = ir.ResizeStretch, 0, ""
		case policy == ir.ResizeShorter:
			side := max(input[0], input[1])
			if hasArg {
				n, err := strconv.Atoi(arg)
				if err != nil || n < side || n > 1<<16 {
					return p, fmt.Errorf("resize=%s: the shorter side's length must be an integer from the input's side %d to 65536", v, side)
				}
				side = n
			}
			p.Resize, p.ResizeTo, p.Crop = ir.ResizeShorter, side, "center"
		default:
			return p, fmt.Errorf("resize=%s: want stretch, shorter or shorter:N", v)
		}
	}
	if v, ok := vals["crop"]; ok {
		if v != "center" {
			return p, fmt.Errorf("crop=%s: the only crop is center", v)
		}
		if p.Resize != ir.ResizeShorter {
			return p, fmt.Errorf("crop=center needs resize=shorter: a stretched image is already the input's size")
		}
	}

	_, mean := vals["mean"]
	_, std := vals["std"]
	_, scale := vals["scale"]
	_, offset := vals["offset"]
	_, rng := vals["range"]
	groups := 0
	for _, g := range []bool{mean || std, scale || offset, rng} {
		if g {
			groups++
		}
	}
	if groups > 1 {
		return p, fmt.Errorf("give one normalisation: mean and std, scale and offset, or range")
	}
	list := func(key string, def float64) ([3]float64, error) {
		v, ok := vals[key]
		if !ok {
			return [3]float64{def, def, def}, nil
		}
		return parseChannels(v, input[2])
	}
	switch {
	case mean || std:
		m, err := list("mean", 0)
		if err != nil {
			return p, fmt.Errorf("mean=%s: %w", vals["mean"], err)
		}
		s, err := list("std", 1)
		if err != nil {
			return p, fmt.Errorf("std=%s: %w", vals["std"], err)
		}
		for c := range 3 {
			if s[c] == 0 {
				return p, fmt.Errorf("std=%s: a standard deviation of 0", vals["std"])
			}
			p.Scale[c] = float32(1 / (255 * s[c]))
			p.Offset[c] = float32(-m[c] / s[c])
		}
	case scale || offset:
		s, err := list("scale", 1)
		if err != nil {
			return p, fmt.Errorf("scale=%s: %w", vals["scale"], err)
		}
		o, err := list("offset", 0)
		if err != nil {
			return p, fmt.Errorf("offset=%s: %w", vals["offset"], err)
		}
		for c := range 3 {
			p.Scale[c], p.Offset[c] = float32(s[c]), float32(o[c])
		}
	case rng:
		lo, hi, ok := strings.Cut(vals["range"], ":")
		a, errA := parseNumber(lo)
		b, errB := parseNumber(hi)
		if !ok || errA != nil || errB != nil || !(a < b) {
			return p, fmt.Errorf("range=%s: want LO:HI with LO < HI, e.g. -1:1", vals["range"])
		}
		for c := range 3 {
			p.Scale[c], p.Offset[c] = float32((b-a)/255), float32(a)
		}
	}
	for c := range 3 {
		if !isFinite32(p.Scale[c]) || !isFinite32(p.Offset[c]) {
			return p, fmt.Errorf("scale %v and offset %v are not finite float32 numbers", p.Scale, p.Offset)
		}
	}
	if input[2] == 1 {
		// A grey input reads channel 0 only; keep the others equal so the
		// file says one thing.
		p.Scale[1], p.Scale[2], p.Offset[1], p.Offset[2] = p.Scale[0], p.Scale[0], p.Offset[0], p.Offset[0]
	}
	return p, nil
}

func isFinite32(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// parseChannels reads one number for every channel, or one per channel
// (three), separated by ':' or, when all are plain numbers, by '/'. A
// one-channel (grey) input takes one number.
func parseChannels(v string, channels int) ([3]float64, error) {
	var parts []string
	switch {
	case strings.Contains(v, ":"):
		parts = strings.Split(v, ":")
	case strings.Count(v, "/") == 2:
		parts = strings.Split(v, "/") // 0.485/0.456/0.406: three numbers, not fractions
	default:
		parts = []string{v}
	}
	var out [3]float64
	switch {
	case len(parts) == 1:
		n, err := parseNumber(parts[0])
		if err != nil {
			return out, err
		}
		return [3]float64{n, n, n}, nil
	case len(parts) == 3 && channels == 3:
		for i, s := range parts {
			n, err := parseNumber(s)
			if err != nil {
				return out, err
			}
			out[i] = n
		}
		return out, nil
	}
	return out, fmt.Errorf("want one number, or three (one per channel of a %d-channel input)", channels)
}

// parseNumber reads a finite decimal number or a fraction P/Q such as
// 1/255.
func parseNumber(s string) (float64, error) {
	num, den, frac := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.ParseFloat(num, 64)
	d := 1.0
	if err == nil && frac {
		d, err = strconv.ParseFloat(den, 64)
		if err == nil && d == 0 {
			return 0, fmt.Errorf("%q divides by zero", s)
		}
	}
	if err != nil || math.IsNaN(n/d) || math.IsInf(n/d, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return n / d, nil
}

// FormatPreprocess writes p as a spec that ParsePreprocess reads back to
// the same values (see ir.Preprocess.String).
func FormatPreprocess(p ir.Preprocess) string { return p.String() }
