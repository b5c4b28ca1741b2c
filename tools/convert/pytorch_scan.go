package convert

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// pickleArg is how a pickle opcode's argument is encoded (Python's
// pickletools lists them): nothing, a fixed number of bytes, one or two
// newline-terminated lines, or a little-endian length of 1, 4 or 8 bytes
// followed by that many bytes.
type pickleArg int

const (
	argNone pickleArg = iota
	argFixed1
	argFixed2
	argFixed4
	argFixed8
	argLine
	argTwoLines
	argLen1
	argLen4
	argLen8
	argFrame
)

// pickleOpArg gives each opcode of pickle protocols 0 to 5 its argument
// encoding; ok is false for bytes that are not opcodes.
func pickleOpArg(op byte) (arg pickleArg, ok bool) {
	switch op {
	case 'N', 0x88, 0x89, ']', 'a', 'e', 'l', ')', 't', 0x85, 0x86, 0x87, '}', 'd', 's', 'u',
		0x8f, 0x90, 0x91, '0', '2', '(', '1', 0x94, 0x93, 'R', 'b', 'o', 0x81, 0x92, '.', 'Q', 0x97, 0x98:
		return argNone, true
	case 'K', 'h', 'q', 0x82, 0x80:
		return argFixed1, true
	case 'M', 0x83:
		return argFixed2, true
	case 'J', 'j', 'r', 0x84:
		return argFixed4, true
	case 'G':
		return argFixed8, true
	case 0x95:
		return argFrame, true
	case 'I', 'L', 'S', 'V', 'F', 'g', 'p', 'P':
		return argLine, true
	case 'c', 'i':
		return argTwoLines, true
	case 0x8a, 'U', 'C', 0x8c:
		return argLen1, true
	case 0x8b, 'T', 'B', 'X':
		return argLen4, true
	case 0x8e, 0x96, 0x8d:
		return argLen8, true
	}
	return 0, false
}

// scanPickle reads one pickle, up to and including its STOP opcode, from
// r, which has at most remaining bytes left, and returns its bytes. It
// walks the opcodes only (it builds nothing) and refuses any length that
// goes past the bytes present or past maxPickle, so that the unpickler,
// which allocates what an opcode announces before reading it, is only ever
// handed lengths that are true.
func scanPickle(r *bufio.Reader, remaining int64) ([]byte, error) {
	limit := min(remaining, maxPickle)
	var out []byte
	take := func(n int64) error {
		if n < 0 {
			return errors.New("a negative length in the pickle (damaged file?)")
		}
		if n > limit-int64(len(out)) {
			if n <= remaining-int64(len(out)) {
				return fmt.Errorf("a pickle of more than %d bytes, more than a state_dict needs", maxPickle)
			}
			return errTruncated
		}
		start := len(out)
		out = append(out, make([]byte, n)...)
		if _, err := io.ReadFull(r, out[start:]); err != nil {
			return errTruncated
		}
		return nil
	}
	line := func() error {
		for {
			b, err := r.ReadByte()
			if err != nil {
				return errTruncated
			}
			if int64(len(out)) >= limit {
				return errTruncated
			}
			out = append(out, b)
			if b == '\n' {
				return nil
			}
		}
	}
	length := func(size int) (int64, error) {
		at := len(out)
		if err := take(int64(size)); err != nil {
			return 0, err
		}
		b := out[at:]
		switch size {
		case 1:
			return int64(b[0]), nil
		case 4:
			return int64(int32(binary.LittleEndian.Uint32(b))), nil
		}
		return int64(min(binary.LittleEndian.Uint64(b), 1<<62)), nil
	}
	for {
		at := len(out)
		if err := take(1); err != nil {
			if errors.Is(err, errTruncated) && at == 0 {
				return nil, errors.New("no pickle where one was expected (truncated?)")
			}
			return nil, err
		}
		op := out[at]
		arg, ok := pickleOpArg(op)
		if !ok {
			return nil, fmt.Errorf("byte 0x%02x at pickle offset %d is not a pickle opcode (damaged file?)", op, at)
		}
		var err error
		switch arg {
		case argFixed1:
			err = take(1)
		case argFixed2:
			err = take(2)
		case argFixed4:
			err = take(4)
		case argFixed8:
			err = take(8)
		case argFrame:
			// A frame announces how many of the following bytes it spans;
			// they are opcodes, scanned as usual, but the unpickler
			// allocates the announced length at once.
			var n int64
			if n, err = length(8); err == nil && (n < 0 || n > limit-int64(len(out))) {
				err = errTruncated
			}
		case argLine:
			err = line()
		case argTwoLines:
			if err = line(); err == nil {
				err = line()
			}
		case argLen1, argLen4, argLen8:
			size := map[pickleArg]int{argLen1: 1, argLen4: 4, argLen8: 8}[arg]
			var n int64
			if n, err = length(size); err == nil {
				err = take(n)
			}
		}
		if err != nil {
			return nil, err
		}
		if op == '.' {
			return out, nil
		}
	}
}
