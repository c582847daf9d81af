package rawbtf_test

import (
	"encoding/binary"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// FuzzParse checks that Parse accepts or rejects any input without
// panicking, and that every accessor is safe on what it accepts.
func FuzzParse(f *testing.F) {
	f.Add(sample(binary.LittleEndian))
	f.Add(sample(binary.BigEndian))
	f.Add([]byte{0x9f, 0xeb, 1, 0})
	small := btftest.New()
	small.Int("int", 4, true)
	small.Unknown(kindLocSec, "inline.text", 2, 0, 12, 1)
	small.Typedef("t", 1)
	f.Add(small.WithLayout(locLayouts).Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := rawbtf.Parse(data)
		if err != nil {
			return
		}
		for id := 0; id < b.NumTypes(); id++ {
			ty := b.Type(rawbtf.TypeID(id))
			_ = ty.Name()
			_ = ty.Raw()
			_, _ = b.ResolveSize(ty.ID)
			_, _ = b.Skip(ty.ID)
			switch k := ty.Kind(); {
			case k.IsComposite():
				for i := 0; i < ty.Vlen(); i++ {
					_ = b.String(ty.Member(i).NameOff)
				}
			case k.IsEnum():
				for i := 0; i < ty.Vlen(); i++ {
					_ = ty.EnumValue(i)
				}
			case k == rawbtf.KindFuncProto:
				for i := 0; i < ty.Vlen(); i++ {
					_ = ty.Param(i)
				}
			case k == rawbtf.KindArray:
				_ = ty.Array()
			case k == rawbtf.KindInt:
				_, _, _ = ty.IntEncoding()
			case k == rawbtf.KindDatasec:
				for i := 0; i < ty.Vlen(); i++ {
					_ = ty.VarSecinfo(i)
				}
			}
		}
	})
}
