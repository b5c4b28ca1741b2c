package imageprep

import "math"

// The resampler reproduces Pillow's Image.resize(size, Image.BILINEAR) on
// 8-bit images (libImaging/Resample.c) operation for operation, because
// that is what torchvision's Resize does to PIL images and therefore what
// the source framework's numbers were computed from:
//
//   - a triangle filter widened by the scale factor when shrinking, so
//     downscaling averages every source pixel (antialiasing) instead of
//     sampling two;
//   - coefficients computed in float64, normalised, then rounded to fixed
//     point with precisionBits fractional bits;
//   - a horizontal pass rounded to 8 bits, then a vertical pass rounded to
//     8 bits, each skipped when that dimension keeps its size.
//
// Integer arithmetic after the coefficients makes the result identical on
// every platform (amd64, arm64, wasm), which is what lets the CLI and the
// browser agree on every pixel.

// precisionBits is Pillow's PRECISION_BITS: 32 - 8 (result) - 2 (headroom).
const precisionBits = 32 - 8 - 2

// coeffs holds the fixed-point filter of one dimension for the output
// positions [lo, hi) of a resize from in to out samples.
type coeffs struct {
	in, out, lo, hi int
	ksize           int
	start, count    []int   // first input sample and number of taps per output
	k               []int32 // ksize taps per output
	f               []float64
}

// compute fills c unless it already holds this resize; a Preparer that
// sees frames of one size recomputes nothing.
func (c *coeffs) compute(in, out, lo, hi int) {
	if c.k != nil && c.in == in && c.out == out && c.lo == lo && c.hi == hi {
		return
	}
	c.in, c.out, c.lo, c.hi = in, out, lo, hi
	scale := float64(in) / float64(out)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := 1.0 * filterscale // the triangle filter's support is 1
	ksize := int(math.Ceil(support))*2 + 1
	c.ksize = ksize
	n := hi - lo
	c.start = grow(c.start, n)
	c.count = grow(c.count, n)
	c.k = grow(c.k, n*ksize)
	c.f = grow(c.f, ksize)
	ss := 1.0 / filterscale
	for i := range n {
		xx := lo + i
		// Explicit float64 conversions keep the compiler from fusing a
		// multiply and an add into one FMA on platforms that have it,
		// which would change the last bit and then, rarely, a pixel.
		center := float64((float64(xx) + 0.5) * scale)
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > in {
			xmax = in
		}
		xmax -= xmin
		ww := 0.0
		for x := range xmax {
			w := triangle(float64((float64(x+xmin) - center + 0.5) * ss))
			c.f[x] = w
			ww += w
		}
		k := c.k[i*ksize : (i+1)*ksize]
		for x := range k {
			v := 0.0
			if x < xmax {
				v = c.f[x]
				if ww != 0 {
					v /= ww
				}
			}
			// Pillow rounds half away from zero; the taps are never
			// negative for this filter.
			k[x] = int32(0.5 + float64(v*(1<<precisionBits)))
		}
		c.start[i] = xmin
		c.count[i] = xmax
	}
}

// triangle is Pillow's bilinear_filter.
func triangle(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

// clip8 is Pillow's clip8: drop the fraction (the half added up front
// makes it round to nearest) and saturate. Sums are accumulated in int
// rather than Pillow's int32: they never exceed 2^31 (255 times taps that
// add up to about 2^22), so the results are the same, and under wasm,
// where every integer is 64 bits wide, int avoids a sign extension after
// each operation (about 20% faster).
func clip8(s int) byte {
	s >>= precisionBits
	if s < 0 {
		return 0
	}
	if s > 255 {
		return 255
	}
	return byte(s)
}

// grow returns s resized to n, reusing its storage when it is big enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// pixels is a view of 8-bit pixels: n channels used out of step bytes per
// pixel (an NRGBA view has step 4 and n 3), rows stride bytes apart.
type pixels struct {
	pix    []byte
	w, h   int
	stride int
	step   int
	n      int
}

// hpass resamples rows [y0, y1) of src horizontally with c into dst,
// packed with n bytes per pixel, (c.hi-c.lo)*n bytes per row.
func hpass(dst []byte, src pixels, y0, y1 int, c *coeffs) {
	const half = 1 << (precisionBits - 1)
	cols := c.hi - c.lo
	n, step, ks := src.n, src.step, c.ksize
	d := 0
	for y := y0; y < y1; y++ {
		row := src.pix[y*src.stride:]
		for i := range cols {
			k := c.k[i*ks : i*ks+c.count[i]]
			p := c.start[i] * step
			if n == 1 {
				s0 := half
				for _, kv := range k {
					s0 += int(row[p]) * int(kv)
					p += step
				}
				dst[d] = clip8(s0)
				d++
				continue
			}
			s0, s1, s2 := half, half, half
			for _, kv := range k {
				px := row[p : p+3]
				s0 += int(px[0]) * int(kv)
				s1 += int(px[1]) * int(kv)
				s2 += int(px[2]) * int(kv)
				p += step
			}
			dst[d], dst[d+1], dst[d+2] = clip8(s0), clip8(s1), clip8(s2)
			d += 3
		}
	}
}

// vpass resamples src vertically with c, whose input row 0 is src's row
// rowOff, into dst: output row i (i in [0, c.hi-c.lo)) goes to
// dst[i*dstStride:], packed with src.n bytes per pixel, src.w pixels.
func vpass(dst []byte, dstStride int, src pixels, rowOff int, c *coeffs) {
	const half = 1 << (precisionBits - 1)
	n, step, ks := src.n, src.step, c.ksize
	for i := range c.hi - c.lo {
		k := c.k[i*ks : i*ks+c.count[i]]
		base := (c.start[i] - rowOff) * src.stride
		out := dst[i*dstStride:]
		for x := range src.w {
			p := base + x*step
			if n == 1 {
				s0 := half
				for _, kv := range k {
					s0 += int(src.pix[p]) * int(kv)
					p += src.stride
				}
				out[x] = clip8(s0)
				continue
			}
			s0, s1, s2 := half, half, half
			for _, kv := range k {
				px := src.pix[p : p+3]
				s0 += int(px[0]) * int(kv)
				s1 += int(px[1]) * int(kv)
				s2 += int(px[2]) * int(kv)
				p += src.stride
			}
			out[3*x], out[3*x+1], out[3*x+2] = clip8(s0), clip8(s1), clip8(s2)
		}
	}
}
