package bpfprog

import (
	"debug/elf"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestPackRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		in := Insn{Op: uint8(rng.Uint32()), Dst: uint8(rng.IntN(16)), Src: uint8(rng.IntN(16)),
			Off: int16(rng.Uint32()), Imm: int32(rng.Uint32())}
		if got := unpack(pack(in)); got != in {
			t.Fatalf("unpack(pack(%+v)) = %+v", in, got)
		}
	}
}

// testObjectPaths returns the objects of testdata, heavy ones too when
// they are built.
func testObjectPaths(t *testing.T) []string {
	paths, _ := filepath.Glob("../../testdata/bpf/*.bpf.o")
	heavy, _ := filepath.Glob("../../testdata/heavy/*.bpf.o")
	many, _ := filepath.Glob("../../testdata/heavy/many/*.bpf.o")
	paths = append(append(paths, heavy...), many...)
	if len(paths) == 0 {
		t.Fatal("no testdata objects")
	}
	return paths
}

// TestInsnsMatchELF: the packed instructions are those of the ELF
// sections, decoded independently, and an instruction has a relocation
// exactly when Relocated lists it.
func TestInsnsMatchELF(t *testing.T) {
	for _, path := range testObjectPaths(t) {
		o, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, fn := range o.Funcs {
			data, err := f.Sections[fn.sec].Data()
			if err != nil {
				t.Fatal(err)
			}
			rel := map[int]bool{}
			for i, in := range fn.Relocated() {
				rel[i] = true
				if in != fn.Insn(i) {
					t.Errorf("%s %s insn %d: Relocated %+v, Insn %+v", path, fn.Name, i, in, fn.Insn(i))
				}
			}
			for i := range fn.Len() {
				b := data[fn.Offset+uint64(8*i):]
				want := Insn{Op: b[0], Dst: b[1] & 0xf, Src: b[1] >> 4, Off: int16(f.ByteOrder.Uint16(b[2:])), Imm: int32(f.ByteOrder.Uint32(b[4:]))}
				got := fn.Insn(i)
				if (got.rel != nil) != rel[i] {
					t.Errorf("%s %s insn %d: relocation %v, Relocated lists it: %v", path, fn.Name, i, got.rel != nil, rel[i])
				}
				got.rel = nil
				if got != want || fn.Raw(i) != want {
					t.Errorf("%s %s insn %d: %+v (raw %+v), want %+v", path, fn.Name, i, got, fn.Raw(i), want)
				}
			}
		}
		f.Close()
	}
}

// TestTargetsMatchLinearSearch: Target finds by offset the function a
// search of every function finds.
func TestTargetsMatchLinearSearch(t *testing.T) {
	for _, path := range testObjectPaths(t) {
		o, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		linear := &Object{Funcs: o.Funcs, Externs: o.Externs} // no bySec: funcAt scans
		for _, fn := range o.Funcs {
			for i := range fn.Len() {
				g, at, ok := o.Target(fn, i)
				h, at2, ok2 := linear.Target(fn, i)
				if g != h || at != at2 || ok != ok2 {
					t.Errorf("%s %s insn %d: Target %v %d %v, by scan %v %d %v", path, fn.Name, i, g, at, ok, h, at2, ok2)
				}
			}
		}
	}
}

func BenchmarkParseHeavy(b *testing.B) {
	data, err := os.ReadFile("../../testdata/heavy/heavy.bpf.o")
	if err != nil {
		b.Skip("no heavy object: ", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
