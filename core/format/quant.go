package format

import (
	"fmt"
	"math"
	"slices"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// A calibrated model (version 3) records the int8 quantization of its
// activation values in three parallel arrays, one entry per value (section
// 4.1 of FORMAT.md).
const (
	keyQuantValues = "glimpse.quant.values"
	keyQuantScales = "glimpse.quant.scales"
	keyQuantZeros  = "glimpse.quant.zero_points"
)

// quantVersion is the first format version with calibrated activations.
const quantVersion = 3

func kvI32s(key string, v []int32) KV {
	return KV{Key: key, Type: TypeArray, Elem: TypeI32, Value: v}
}

// quantKVs lays out g.Meta.Quant in value-name order, or nothing.
func quantKVs(q map[string]ir.QParams) []KV {
	if len(q) == 0 {
		return nil
	}
	names := make([]string, 0, len(q))
	for v := range q {
		names = append(names, v)
	}
	slices.Sort(names)
	scales := make([]float32, len(names))
	zeros := make([]int32, len(names))
	for i, v := range names {
		scales[i], zeros[i] = q[v].Scale, q[v].Zero
	}
	return []KV{kvStrings(keyQuantValues, names), kvF32s(keyQuantScales, scales), kvI32s(keyQuantZeros, zeros)}
}

// readQuant fills g.Meta.Quant from the three arrays, which come together
// or not at all.
func readQuant(m metaReader, g *ir.Graph) error {
	var arrays [3]any
	for i, k := range []struct {
		key  string
		elem ValueType
	}{{keyQuantValues, TypeString}, {keyQuantScales, TypeF32}, {keyQuantZeros, TypeI32}} {
		v, err := m.get(k.key, TypeArray, k.elem, false)
		if err != nil {
			return err
		}
		arrays[i] = v
	}
	if arrays[0] == nil && arrays[1] == nil && arrays[2] == nil {
		return nil
	}
	if arrays[0] == nil || arrays[1] == nil || arrays[2] == nil {
		return fmt.Errorf("metadata keys %q, %q and %q come together, but some are missing", keyQuantValues, keyQuantScales, keyQuantZeros)
	}
	names, scales, zeros := arrays[0].([]string), arrays[1].([]float32), arrays[2].([]int32)
	if len(scales) != len(names) || len(zeros) != len(names) || len(names) == 0 {
		return fmt.Errorf("metadata keys %q, %q and %q have %d, %d and %d values, want the same number, at least one",
			keyQuantValues, keyQuantScales, keyQuantZeros, len(names), len(scales), len(zeros))
	}
	g.Meta.Quant = make(map[string]ir.QParams, len(names))
	for i, v := range names {
		if _, dup := g.Meta.Quant[v]; dup {
			return fmt.Errorf("metadata key %q names value %q twice", keyQuantValues, v)
		}
		g.Meta.Quant[v] = ir.QParams{Scale: scales[i], Zero: zeros[i]}
	}
	return nil
}

// validateQuant checks that every quantized value exists and has a scale
// and zero point int8 can use.
func validateQuant(g *ir.Graph, shapes map[string]ir.Shape) error {
	for v, p := range g.Meta.Quant {
		if _, ok := shapes[v]; !ok {
			return fmt.Errorf("%s: value %q is not in the graph", keyQuantValues, v)
		}
		if !(p.Scale > 0) || math.IsInf(float64(p.Scale), 0) {
			return fmt.Errorf("%s: value %q has scale %v, want a finite number > 0", keyQuantScales, v, p.Scale)
		}
		if p.Zero < -128 || p.Zero > 127 {
			return fmt.Errorf("%s: value %q has zero point %d, outside -128..127", keyQuantZeros, v, p.Zero)
		}
	}
	return nil
}
