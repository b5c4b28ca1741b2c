package course

import (
	"fmt"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Field is the receptive field of one cell of a layer's output: the
// region of the input picture whose pixels can change that cell.
type Field struct {
	// Size is the region's height and width in input pixels, as if the
	// picture went on forever; near the border part of it is padding, and
	// deep in a network it can be larger than the picture itself.
	Size [2]int `json:"size"`
	// Jump is how many input pixels apart the regions of two neighbouring
	// cells are: the product of the strides so far.
	Jump [2]int `json:"jump"`
	// Whole is true when every cell sees every pixel of the picture:
	// after global pooling, a fully connected layer on a map, or
	// squeeze-and-excite, whose channel weights come from the whole map.
	Whole bool `json:"whole"`
}

// Fields returns the receptive field of every value of g, the input
// included (one pixel). A convolution or pool with an F-wide kernel
// (dilation d) widens the field by (d(F−1))·jump and multiplies the jump
// by its stride; layers that join branches (Add, Mul, Concat) see what
// their widest input sees.
func Fields(g *ir.Graph) (map[string]Field, error) {
	shapes, err := g.Infer()
	if err != nil {
		return nil, err
	}
	return fieldsOf(g, shapes)
}

// fieldsOf is Fields on the graph's inferred shapes.
func fieldsOf(g *ir.Graph, shapes map[string]ir.Shape) (map[string]Field, error) {
	f := map[string]Field{g.Input: {Size: [2]int{1, 1}, Jump: [2]int{1, 1}}}
	for _, n := range g.Nodes {
		in := make([]Field, len(n.Inputs))
		for i, v := range n.Inputs {
			in[i] = f[v]
		}
		if len(in) == 0 {
			return nil, &ir.Error{Node: n.Name, Msg: "has no input"}
		}
		out := in[0]
		a := &n.Attrs
		switch n.Op {
		case ir.Conv2D, ir.MaxPool, ir.AvgPool:
			sh, sw := a.Strides()
			dh, dw := 1, 1
			if n.Op == ir.Conv2D {
				dh, dw = a.Dilations()
			}
			out.Size[0] += dh * (a.Kernel[0] - 1) * out.Jump[0]
			out.Size[1] += dw * (a.Kernel[1] - 1) * out.Jump[1]
			out.Jump[0] *= sh
			out.Jump[1] *= sw
		case ir.GlobalAvgPool, ir.Flatten, ir.Dense:
			s := shapes[n.Inputs[0]]
			out.Size[0] += (s[0] - 1) * out.Jump[0]
			out.Size[1] += (s[1] - 1) * out.Jump[1]
			if n.Op == ir.GlobalAvgPool || s[0] > 1 || s[1] > 1 {
				out.Whole = true
			}
		case ir.Add, ir.Mul, ir.Concat:
			for _, x := range in[1:] {
				for k := range 2 {
					out.Size[k] = max(out.Size[k], x.Size[k])
					out.Jump[k] = max(out.Jump[k], x.Jump[k])
				}
				out.Whole = out.Whole || x.Whole
			}
		}
		if out.Size[0] > 1<<40 || out.Size[1] > 1<<40 {
			return nil, &ir.Error{Node: n.Name, Msg: fmt.Sprintf("receptive field %v is out of range", out.Size)}
		}
		f[n.Output] = out
	}
	return f, nil
}
