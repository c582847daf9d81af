package xzenc

import (
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// compressLZMA2 writes data to w as raw LZMA2 (lc=3, lp=0, pb=2) with an
// end marker, with a dictionary of dict bytes.
func compressLZMA2(w io.Writer, data []byte, dict uint32) error {
	zw, err := lzma.Writer2Config{DictCap: int(dict)}.NewWriter2(w)
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	return zw.Close()
}
