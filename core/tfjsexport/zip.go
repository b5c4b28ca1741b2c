package tfjsexport

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// zipFile is one member of a stored (uncompressed) zip archive.
type zipFile struct {
	name string
	data []byte
}

// writeZip writes files as a zip archive of stored members (PKWARE's
// APPNOTE, no zip64). The browser app builds with it instead of
// archive/zip, which would add about 300 KB to its wasm for a format this
// small; float32 weights hardly deflate anyway.
func writeZip(out io.Writer, files []zipFile, modified time.Time) error {
	date, clock := dosTime(modified)
	var central []byte
	var offset uint64
	le := binary.LittleEndian
	for _, f := range files {
		if len(f.data) >= math.MaxUint32 || offset+uint64(len(f.data))+uint64(30+len(f.name)) >= math.MaxUint32 {
			return fmt.Errorf("%s: %d bytes is too big for a zip without zip64", f.name, len(f.data))
		}
		crc := crc32.ChecksumIEEE(f.data)
		h := make([]byte, 30, 30+len(f.name))
		le.PutUint32(h[0:], 0x04034b50)
		le.PutUint16(h[4:], 20) // version needed: 2.0
		le.PutUint16(h[6:], 0x0800)
		le.PutUint16(h[8:], 0) // stored
		le.PutUint16(h[10:], clock)
		le.PutUint16(h[12:], date)
		le.PutUint32(h[14:], crc)
		le.PutUint32(h[18:], uint32(len(f.data)))
		le.PutUint32(h[22:], uint32(len(f.data)))
		le.PutUint16(h[26:], uint16(len(f.name)))
		h = append(h, f.name...)
		if _, err := out.Write(h); err != nil {
			return err
		}
		if _, err := out.Write(f.data); err != nil {
			return err
		}
		c := make([]byte, 46, 46+len(f.name))
		le.PutUint32(c[0:], 0x02014b50)
		le.PutUint16(c[4:], 20) // made by: 2.0, MS-DOS attributes
		le.PutUint16(c[6:], 20)
		le.PutUint16(c[8:], 0x0800)
		le.PutUint16(c[10:], 0)
		le.PutUint16(c[12:], clock)
		le.PutUint16(c[14:], date)
		le.PutUint32(c[16:], crc)
		le.PutUint32(c[20:], uint32(len(f.data)))
		le.PutUint32(c[24:], uint32(len(f.data)))
		le.PutUint16(c[28:], uint16(len(f.name)))
		le.PutUint32(c[42:], uint32(offset))
		central = append(central, append(c, f.name...)...)
		offset += uint64(len(h) + len(f.data))
	}
	end := make([]byte, 22)
	le.PutUint32(end[0:], 0x06054b50)
	le.PutUint16(end[8:], uint16(len(files)))
	le.PutUint16(end[10:], uint16(len(files)))
	le.PutUint32(end[12:], uint32(len(central)))
	le.PutUint32(end[16:], uint32(offset))
	if _, err := out.Write(central); err != nil {
		return err
	}
	_, err := out.Write(end)
	return err
}

// dosTime is t in MS-DOS date and time fields, the zip's own dating.
func dosTime(t time.Time) (date, clock uint16) {
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
	clock = uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2)
	return date, clock
}
