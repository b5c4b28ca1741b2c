package format

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// glimpse.graph is JSON: an array of nodes (wireNode), each with its
// attributes (wireAttrs). This file writes and reads exactly that schema
// by hand. encoding/json would do both, through reflection, at the price
// of about a fifth of glimpse.wasm, which every user of the JavaScript
// library downloads; the schema is small and fixed, so a codec for it is
// short. The tests hold it to encoding/json: the bytes it writes are
// json.Marshal's, and any text it accepts, json.Decoder (with unknown
// fields disallowed, as this reader has always read the key) accepts and
// decodes to the same nodes.
//
// Reading is stricter than encoding/json in a few respects, none of which
// a writer of this format produces: keys must be spelled as the writer
// spells them (encoding/json also matches them ignoring case), no key may
// come twice in one object, and every element of an attribute's array
// must be a whole number, the ones past its length too.

// appendGraphJSON appends the JSON of nodes to b, byte for byte as
// json.Marshal writes it.
func appendGraphJSON(b []byte, nodes []wireNode) ([]byte, error) {
	if nodes == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, n := range nodes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendJSONString(b, n.Name)
		b = append(b, `,"op":`...)
		b = appendJSONString(b, n.Op)
		b = append(b, `,"inputs":`...)
		b = appendJSONStrings(b, n.Inputs)
		b = append(b, `,"output":`...)
		b = appendJSONString(b, n.Output)
		if len(n.Weights) > 0 {
			b = append(b, `,"weights":`...)
			b = appendJSONStrings(b, n.Weights)
		}
		if n.Attrs != (wireAttrs{}) {
			var err error
			b = append(b, `,"attrs":`...)
			if b, err = appendAttrsJSON(b, &n.Attrs); err != nil {
				return nil, fmt.Errorf("node %q: %v", n.Name, err)
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendAttrsJSON writes the attributes that are not zero, in field order
// (every field is omitzero).
func appendAttrsJSON(b []byte, a *wireAttrs) ([]byte, error) {
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":`...)
	}
	ints := func(k string, v []int) {
		for _, x := range v {
			if x != 0 {
				key(k)
				b = append(b, '[')
				for i, x := range v {
					if i > 0 {
						b = append(b, ',')
					}
					b = strconv.AppendInt(b, int64(x), 10)
				}
				b = append(b, ']')
				return
			}
		}
	}
	ints("kernel", a.Kernel[:])
	ints("stride", a.Stride[:])
	ints("dilation", a.Dilation[:])
	ints("pads", a.Pads[:])
	if a.Groups != 0 {
		key("groups")
		b = strconv.AppendInt(b, int64(a.Groups), 10)
	}
	if a.Act != "" {
		key("act")
		b = appendJSONString(b, a.Act)
	}
	if a.Ceil {
		key("ceil")
		b = append(b, "true"...)
	}
	if a.CountPad {
		key("count_pad")
		b = append(b, "true"...)
	}
	for _, f := range []struct {
		k string
		v float32
	}{{"epsilon", a.Epsilon}, {"alpha", a.Alpha}, {"beta", a.Beta}} {
		if f.v == 0 {
			continue
		}
		if math.IsNaN(float64(f.v)) || math.IsInf(float64(f.v), 0) {
			return nil, fmt.Errorf("%s is %v, which JSON cannot hold", f.k, f.v)
		}
		key(f.k)
		b = appendJSONFloat32(b, f.v)
	}
	return append(b, '}'), nil
}

// appendJSONFloat32 writes f as encoding/json writes a float32: the
// shortest decimal that reads back as f, in exponent form only below 1e-6
// or from 1e21 on, with a one-digit negative exponent unpadded.
func appendJSONFloat32(b []byte, f float32) []byte {
	abs := float32(math.Abs(float64(f)))
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, float64(f), format, -1, 32)
	if format == 'e' {
		// e-09 becomes e-9.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func appendJSONStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return append(b, ']')
}

// appendJSONString quotes s as json.Marshal does: <, > and & escaped for
// HTML, control characters as \n, \r, \t, \b, \f or \u00XX, invalid UTF-8
// as U+FFFD, and U+2028 and U+2029 escaped for JavaScript.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// graphParser reads glimpse.graph's JSON into wireNodes.
type graphParser struct {
	s   string
	pos int
}

// parseGraphJSON reads the JSON array of nodes at the start of s and
// returns the nodes and the offset after the array. null reads as no
// nodes, as it does for encoding/json.
func parseGraphJSON(s string) ([]wireNode, int, error) {
	p := &graphParser{s: s}
	var nodes []wireNode
	p.space()
	if p.literal("null") {
		return nil, p.pos, nil
	}
	err := p.array(func() error {
		nodes = append(nodes, wireNode{})
		return p.node(&nodes[len(nodes)-1])
	})
	if err != nil {
		return nil, p.pos, err
	}
	if nodes == nil {
		nodes = []wireNode{}
	}
	return nodes, p.pos, nil
}

func (p *graphParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *graphParser) space() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (p *graphParser) peek() byte {
	p.space()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// literal consumes word (null, true, false) if it comes next.
func (p *graphParser) literal(word string) bool {
	p.space()
	if len(p.s)-p.pos >= len(word) && p.s[p.pos:p.pos+len(word)] == word {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *graphParser) expect(c byte) error {
	if p.peek() != c {
		return p.unexpected(fmt.Sprintf("%q", c))
	}
	p.pos++
	return nil
}

func (p *graphParser) unexpected(want string) error {
	if p.pos >= len(p.s) {
		return p.errorf("the text ends where %s should follow", want)
	}
	return p.errorf("found %q where %s should be", p.s[p.pos], want)
}

// array reads [elem, ...], calling elem for each element.
func (p *graphParser) array(elem func() error) error {
	if err := p.expect('['); err != nil {
		return err
	}
	if p.peek() == ']' {
		p.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return p.unexpected(`"," or "]"`)
		}
	}
}

// object reads {"key": value, ...}, calling field for each key, which
// reads the value. A key given twice is refused: encoding/json would merge
// the two values, and no writer means either.
func (p *graphParser) object(field func(key string) error) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.pos++
		return nil
	}
	var seen []string
	for {
		if p.peek() != '"' {
			return p.unexpected("a key")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if slices.Contains(seen, key) {
			return p.errorf("key %q given twice", key)
		}
		seen = append(seen, key)
		if err := p.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.unexpected(`"," or "}"`)
		}
	}
}

// node reads one node: an object, or null for an empty node.
func (p *graphParser) node(n *wireNode) error {
	if p.literal("null") {
		return nil
	}
	return p.object(func(key string) error {
		switch key {
		case "name":
			return p.stringInto(&n.Name)
		case "op":
			return p.stringInto(&n.Op)
		case "inputs":
			return p.strings(&n.Inputs)
		case "output":
			return p.stringInto(&n.Output)
		case "weights":
			return p.strings(&n.Weights)
		case "attrs":
			return p.attrs(&n.Attrs)
		}
		return p.errorf("unknown field %q in a node", key)
	})
}

func (p *graphParser) attrs(a *wireAttrs) error {
	if p.literal("null") {
		return nil
	}
	return p.object(func(key string) error {
		switch key {
		case "kernel":
			return p.ints(a.Kernel[:])
		case "stride":
			return p.ints(a.Stride[:])
		case "dilation":
			return p.ints(a.Dilation[:])
		case "pads":
			return p.ints(a.Pads[:])
		case "groups":
			return p.intInto(&a.Groups)
		case "act":
			return p.stringInto(&a.Act)
		case "ceil":
			return p.boolInto(&a.Ceil)
		case "count_pad":
			return p.boolInto(&a.CountPad)
		case "epsilon":
			return p.float32Into(&a.Epsilon)
		case "alpha":
			return p.float32Into(&a.Alpha)
		case "beta":
			return p.float32Into(&a.Beta)
		}
		return p.errorf("unknown field %q in attrs", key)
	})
}

// stringInto reads a string into dst; null leaves dst as it is.
func (p *graphParser) stringInto(dst *string) error {
	if p.literal("null") {
		return nil
	}
	if p.peek() != '"' {
		return p.unexpected("a string")
	}
	v, err := p.str()
	if err == nil {
		*dst = v
	}
	return err
}

// strings reads an array of strings into dst (null: nil).
func (p *graphParser) strings(dst *[]string) error {
	if p.literal("null") {
		*dst = nil
		return nil
	}
	list := []string{}
	err := p.array(func() error {
		list = append(list, "")
		return p.stringInto(&list[len(list)-1])
	})
	*dst = list
	return err
}

// ints reads an array of integers into dst: missing elements become 0,
// extra ones are read and dropped; null leaves dst as it is.
func (p *graphParser) ints(dst []int) error {
	if p.literal("null") {
		return nil
	}
	i := 0
	err := p.array(func() error {
		var v int
		if err := p.intInto(&v); err != nil {
			return err
		}
		if i < len(dst) {
			dst[i] = v
		}
		i++
		return nil
	})
	if i < len(dst) {
		clear(dst[i:])
	}
	return err
}

func (p *graphParser) intInto(dst *int) error {
	if p.literal("null") {
		return nil
	}
	num, err := p.number()
	if err != nil {
		return err
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || int64(int(v)) != v {
		return p.errorf("%s is not a whole number an int holds", num)
	}
	*dst = int(v)
	return nil
}

func (p *graphParser) float32Into(dst *float32) error {
	if p.literal("null") {
		return nil
	}
	num, err := p.number()
	if err != nil {
		return err
	}
	v, err := strconv.ParseFloat(num, 32)
	if err != nil {
		return p.errorf("%s is not a float32", num)
	}
	*dst = float32(v)
	return nil
}

func (p *graphParser) boolInto(dst *bool) error {
	switch {
	case p.literal("null"):
	case p.literal("true"):
		*dst = true
	case p.literal("false"):
		*dst = false
	default:
		return p.unexpected("true or false")
	}
	return nil
}

// number reads a JSON number and returns its text.
func (p *graphParser) number() (string, error) {
	p.space()
	s, start := p.s, p.pos
	i := start
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return "", p.unexpected("a number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			p.pos = i
			return "", p.unexpected("a digit")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			p.pos = i
			return "", p.unexpected("a digit")
		}
	}
	p.pos = i
	return s[start:i], nil
}

var errControl = errors.New("a control character in a string")

// str reads a quoted string (p.pos at its opening quote), unescaping it
// as encoding/json does: invalid UTF-8 and unpaired surrogates become
// U+FFFD.
func (p *graphParser) str() (string, error) {
	s := p.s
	i := p.pos + 1
	// The common case: no escapes, valid UTF-8.
	for j := i; j < len(s); j++ {
		c := s[j]
		if c == '"' {
			if utf8.ValidString(s[i:j]) {
				p.pos = j + 1
				return s[i:j], nil
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	var b []byte
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(b), nil
		case c < 0x20:
			p.pos = i
			return "", p.errorf("%v", errControl)
		case c == '\\':
			if i+1 >= len(s) {
				p.pos = i
				return "", p.errorf("the text ends inside an escape")
			}
			e := s[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(s, i)
				if !ok {
					p.pos = i
					return "", p.errorf("a \\u escape needs four hexadecimal digits")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					r2, ok := rune(-1), false
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2, ok = hex4(s, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.pos = i - 1
				return "", p.errorf("invalid escape \\%c", e)
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			b = utf8.AppendRune(b, r)
		}
	}
	p.pos = i
	return "", p.errorf("the text ends inside a string")
}

// hex4 reads four hexadecimal digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}
