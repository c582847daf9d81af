// Package bpfobj reads compiled BPF objects (ELF files produced by clang
// -target bpf): their programs and every CO-RE relocation record of
// .BTF.ext, with the local type and access string resolved to a readable
// path.
package bpfobj

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// Errors returned by Open and Parse, wrapped with the file name and details.
var (
	// ErrNotELF means the file is not an ELF object.
	ErrNotELF = errors.New("not an ELF file")
	// ErrNotBPF means the ELF object is not for the BPF machine.
	ErrNotBPF = errors.New("not a BPF object")
	// ErrNoBTF means the object has no .BTF section, so CO-RE cannot apply.
	ErrNoBTF = errors.New("object has no .BTF section")
	// ErrBadBTFExt means .BTF.ext is malformed.
	ErrBadBTFExt = errors.New("malformed .BTF.ext")
	// ErrInvalidRecord means a CO-RE relocation record is one libbpf
	// refuses, failing the object's load, whatever the kernel: see
	// Relocation.Invalid.
	ErrInvalidRecord = errors.New("invalid CO-RE relocation record")
)

// Object is a parsed BPF object.
type Object struct {
	// Path is the file name the object was read from.
	Path string
	// BTF is the object's own (local) BTF.
	BTF *rawbtf.BTF
	// ByteOrder is the ELF's byte order.
	ByteOrder binary.ByteOrder
	// Programs lists the functions of executable sections, in section and
	// offset order.
	Programs []Program
	// Relocations lists the CO-RE relocations in .BTF.ext order, which is
	// the order libbpf applies them in.
	Relocations []Relocation
	// License is the content of the "license" section, if any.
	License string
	// Maps lists the names of the maps defined in ".maps" and "maps".
	Maps []string
	// HasBTFExt reports whether the object has a .BTF.ext section.
	HasBTFExt bool

	// programStart maps each program to the offset of the first of its
	// section and name in Programs.
	programStart map[programKey]uint64
	// paths holds the readable paths of the specs, made on first use.
	paths *pathCache
}

// pathCache is the readable path of each spec of an object's
// relocations, which records of one type, kind and access string share.
type pathCache struct {
	once sync.Once
	m    map[*core.Spec]string
}

// specPath returns r.Path(), made once per spec when o is from Parse.
// It is safe for concurrent use.
func (o *Object) specPath(r *Relocation) string {
	if r.Spec == nil || o.paths == nil {
		return r.Path()
	}
	o.paths.once.Do(func() {
		m := map[*core.Spec]string{}
		for i := range o.Relocations {
			if s := o.Relocations[i].Spec; s != nil {
				if _, ok := m[s]; !ok {
					m[s] = s.Path()
				}
			}
		}
		o.paths.m = m
	})
	if p, ok := o.paths.m[r.Spec]; ok {
		return p
	}
	return r.Path()
}

type programKey struct{ section, name string }

// Program is a function in an executable section.
type Program struct {
	Name    string
	Section string
	// Offset is the byte offset of the first instruction in the section.
	Offset uint64
	// Insns is the number of 8-byte instruction slots.
	Insns int
}

// Relocation is one CO-RE relocation record. A heavy object has tens of
// thousands: what records share (their place, their parsed access string)
// is held once, behind pointers whose fields read as the record's own
// (r.Section, r.Spec). Both are set in the relocations of Open and Parse;
// code that builds a Relocation sets them too.
type Relocation struct {
	core.Relo
	*Place
	*RecordSpec
	// Index is the record's position within its section, libbpf's "relo #N".
	Index int
}

// Place is where a relocation's instruction is, shared by the records of
// one program.
type Place struct {
	// Section is the ELF section holding the instruction.
	Section string
	// Program is the function holding the instruction ("" if none does).
	Program string
}

// RecordSpec is a record's access string read against the object's BTF
// and checked, shared by the records of one local type, kind and access
// string (and instruction alignment).
type RecordSpec struct {
	// Spec is the access string parsed against the object's BTF; nil when
	// it is invalid, and then SpecErr says why (libbpf refuses the object).
	Spec    *core.Spec
	SpecErr error
	// Invalid says why libbpf refuses this record whatever the kernel, and
	// fails the load of the object: an instruction offset that is not a
	// multiple of 8, a local type ID or access string offset out of range,
	// an unknown relocation kind, an anonymous local type (for every kind
	// but local_type_id), or an access string that is not an access path
	// into the local type (SpecErr). It wraps ErrInvalidRecord; nil for a
	// valid record.
	Invalid error
}

// InProgram reports whether the record's instruction lies in a program.
// libbpf skips the records of no program (those of a __weak function the
// linker replaced), whatever they hold.
func (r *Relocation) InProgram() bool { return r.Program != "" }

// Insn returns the instruction index within the program.
func (r *Relocation) Insn(obj *Object) int {
	if off, ok := obj.programStart[programKey{r.Section, r.Program}]; ok {
		return int((uint64(r.InsnOff) - off) / 8)
	}
	if obj.programStart == nil { // an Object not made by Parse
		for _, p := range obj.Programs {
			if p.Section == r.Section && p.Name == r.Program {
				return int((uint64(r.InsnOff) - p.Offset) / 8)
			}
		}
	}
	return int(r.InsnOff / 8)
}

// Path returns the readable access path ("struct task_struct.pid"), or the
// raw access string when it could not be parsed.
func (r *Relocation) Path() string {
	if r.Spec != nil {
		return r.Spec.Path()
	}
	return fmt.Sprintf("[%d] %s", r.TypeID, r.Access)
}

// Check returns an error for the first record, in libbpf's order, that
// libbpf refuses whatever the kernel (see Relocation.Invalid), naming the
// object, the program, the record and what is wrong; nil when there is
// none. Records of no program are skipped, as libbpf skips them, except
// for a misaligned instruction offset, which libbpf checks first. The
// error wraps ErrInvalidRecord.
func (o *Object) Check() error {
	for i := range o.Relocations {
		r := &o.Relocations[i]
		if r.Invalid == nil || (!r.InProgram() && r.InsnOff%8 == 0) {
			continue
		}
		where := fmt.Sprintf("section %s", r.Section)
		if r.InProgram() {
			where = fmt.Sprintf("program %s (section %s)", r.Program, r.Section)
		}
		return fmt.Errorf("%s: %s: CO-RE relocation #%d: %w", o.Path, where, r.Index, r.Invalid)
	}
	return nil
}

// invalid returns why libbpf refuses the record r, read with its access
// string at offset accessOff, on every kernel, or nil.
func (o *Object) invalid(r *Relocation, accessOff uint32) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidRecord, fmt.Sprintf(format, args...))
	}
	switch {
	case r.InsnOff%8 != 0:
		return bad("instruction offset %d is not a multiple of 8", r.InsnOff)
	case !r.Kind.Valid():
		return bad("unknown relocation kind %d", uint32(r.Kind))
	case !o.BTF.Valid(r.TypeID):
		return bad("local type ID %d out of range (the object's BTF has %d types)", r.TypeID, o.BTF.NumTypes()-1)
	case int64(accessOff) >= int64(o.BTF.StringsLen()):
		return bad("access string offset %d beyond the string section (%d bytes)", accessOff, o.BTF.StringsLen())
	case r.Kind != core.TypeIDLocal && len(o.BTF.Type(r.TypeID).NameBytes()) == 0:
		return bad("%s relocation against anonymous local type [%d]: libbpf relocates named types only", r.Kind, r.TypeID)
	case r.SpecErr != nil:
		return fmt.Errorf("%w: %s [%d] %s + %q: %w", ErrInvalidRecord, r.Kind, r.TypeID, o.BTF.Type(r.TypeID).Name(), r.Access, r.SpecErr)
	}
	return nil
}

// Open reads and parses the BPF object at path. Only the sections it
// parses are read: the object's code and debug information are not.
func Open(path string) (*Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	obj, err := parse(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	obj.Path = path
	return obj, nil
}

// Parse parses a BPF object held in memory. The object does not retain
// data.
func Parse(data []byte) (obj *Object, err error) {
	return parse(bytes.NewReader(data), int64(len(data)))
}

// parse parses the BPF object of size bytes read through r.
func parse(r io.ReaderAt, size int64) (obj *Object, err error) {
	var magic [4]byte
	if n, _ := r.ReadAt(magic[:], 0); n < 4 || string(magic[:]) != elf.ELFMAG {
		return nil, ErrNotELF
	}
	// debug/elf panics on some malformed inputs; report them as errors.
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("%w: malformed ELF (%v)", ErrNotELF, r)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated ELF file", ErrNotELF)
		}
		return nil, fmt.Errorf("%w: %w", ErrNotELF, err)
	}
	if f.Machine != elf.EM_BPF {
		return nil, fmt.Errorf("%w: ELF machine is %s", ErrNotBPF, f.Machine)
	}
	obj = &Object{ByteOrder: f.ByteOrder, paths: &pathCache{}}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOBITS && (s.Offset > uint64(size) || s.Size > uint64(size)-s.Offset) {
			return nil, fmt.Errorf("%w: section %q [%d, +%d) beyond end of file (%d bytes)", ErrNotELF, s.Name, s.Offset, s.Size, size)
		}
	}
	sec := f.Section(".BTF")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return nil, ErrNoBTF
	}
	btfData, err := sectionData(sec)
	if err != nil {
		return nil, fmt.Errorf(".BTF: %w", err)
	}
	if obj.BTF, err = rawbtf.Parse(btfData); err != nil {
		return nil, fmt.Errorf(".BTF: %w", err)
	}
	if s := f.Section("license"); s != nil {
		if d, err := sectionData(s); err == nil {
			obj.License = string(bytes.TrimRight(d, "\x00"))
		}
	}
	obj.readPrograms(f)
	if ext := f.Section(".BTF.ext"); ext != nil {
		obj.HasBTFExt = true
		sub, err := coreSubsection(ext, obj.BTF.ByteOrder())
		if err != nil {
			return nil, err
		}
		if err := obj.readCORE(sub); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

func sectionData(s *elf.Section) ([]byte, error) {
	if s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	d := make([]byte, s.Size)
	if _, err := io.ReadFull(s.Open(), d); err != nil {
		return nil, err
	}
	return d, nil
}

// coreSubsection reads the header of .BTF.ext section s and returns a
// reader of its CO-RE relocation subsection, nil when there is none; the
// other subsections (function and line information) are not read.
func coreSubsection(s *elf.Section, order binary.ByteOrder) (*io.SectionReader, error) {
	size := s.Size
	var ra io.ReaderAt = s
	switch {
	case s.Type == elf.SHT_NOBITS:
		size = 0
	case s.Flags&elf.SHF_COMPRESSED != 0:
		d, err := sectionData(s)
		if err != nil {
			return nil, fmt.Errorf(".BTF.ext: %w", err)
		}
		ra, size = bytes.NewReader(d), uint64(len(d))
	}
	var head [32]byte
	h := head[:min(size, uint64(len(head)))]
	if _, err := ra.ReadAt(h, 0); err != nil {
		return nil, fmt.Errorf(".BTF.ext: %w", err)
	}
	if len(h) < 24 {
		return nil, fmt.Errorf("%w: header truncated (%d bytes)", ErrBadBTFExt, len(h))
	}
	if order.Uint16(h) != rawbtf.Magic {
		return nil, fmt.Errorf("%w: bad magic % x", ErrBadBTFExt, h[:2])
	}
	if h[2] != 1 {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrBadBTFExt, h[2])
	}
	if h[3] != 0 {
		return nil, fmt.Errorf("%w: unsupported flags %#x", ErrBadBTFExt, h[3])
	}
	hdrLen := order.Uint32(h[4:])
	if hdrLen < 24 || uint64(hdrLen) > size {
		return nil, fmt.Errorf("%w: header length %d out of range", ErrBadBTFExt, hdrLen)
	}
	if hdrLen < 32 {
		return nil, nil // no CO-RE relocation subsection
	}
	off, n := order.Uint32(h[24:]), order.Uint32(h[28:])
	if n == 0 {
		return nil, nil
	}
	if off%4 != 0 {
		return nil, fmt.Errorf("%w: CO-RE relocations at offset %d, not a multiple of 4", ErrBadBTFExt, off)
	}
	if uint64(off)+uint64(n) > size-uint64(hdrLen) {
		return nil, fmt.Errorf("%w: CO-RE relocations [%d, +%d) beyond end of section", ErrBadBTFExt, off, n)
	}
	return io.NewSectionReader(ra, int64(hdrLen)+int64(off), int64(n)), nil
}

func (o *Object) readPrograms(f *elf.File) {
	syms, _ := f.Symbols()
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || int(s.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[s.Section]
		if sec.Flags&elf.SHF_EXECINSTR == 0 {
			continue
		}
		o.Programs = append(o.Programs, Program{Name: s.Name, Section: sec.Name, Offset: s.Value, Insns: int(s.Size / 8)})
	}
	sort.SliceStable(o.Programs, func(i, j int) bool {
		a, b := o.Programs[i], o.Programs[j]
		if a.Section != b.Section {
			return a.Section < b.Section
		}
		return a.Offset < b.Offset
	})
	o.programStart = make(map[programKey]uint64, len(o.Programs))
	for _, p := range o.Programs {
		if _, ok := o.programStart[programKey{p.Section, p.Name}]; !ok {
			o.programStart[programKey{p.Section, p.Name}] = p.Offset
		}
	}
	for _, name := range []string{".maps", "maps"} {
		s := f.Section(name)
		if s == nil {
			continue
		}
		for _, sym := range syms {
			if int(sym.Section) < len(f.Sections) && f.Sections[sym.Section] == s && sym.Name != "" &&
				elf.ST_TYPE(sym.Info) != elf.STT_SECTION {
				o.Maps = append(o.Maps, sym.Name)
			}
		}
	}
}

// sectionPrograms returns the programs of section name, in offset order.
func (o *Object) sectionPrograms(name string) []Program {
	lo := sort.Search(len(o.Programs), func(i int) bool { return o.Programs[i].Section >= name })
	hi := lo
	for hi < len(o.Programs) && o.Programs[hi].Section == name {
		hi++
	}
	return o.Programs[lo:hi]
}

// programAt returns the name of the program of progs (one section's, in
// offset order) holding the instruction at byte offset off: the first
// such program, "" if none. disjoint says that no two programs of progs
// overlap.
func programAt(progs []Program, disjoint bool, off uint32) string {
	contains := func(p *Program) bool {
		return uint64(off) >= p.Offset && uint64(off) < p.Offset+uint64(p.Insns)*8
	}
	if disjoint {
		// Only the last program starting at or before off can hold it.
		i := sort.Search(len(progs), func(i int) bool { return progs[i].Offset > uint64(off) })
		if i > 0 && contains(&progs[i-1]) {
			return progs[i-1].Name
		}
		return ""
	}
	for j := range progs {
		if contains(&progs[j]) {
			return progs[j].Name
		}
	}
	return ""
}

// disjoint reports whether no two of progs, in offset order, overlap.
func disjoint(progs []Program) bool {
	for i := 1; i < len(progs); i++ {
		if progs[i-1].Offset+uint64(progs[i-1].Insns)*8 > progs[i].Offset {
			return false
		}
	}
	return true
}

// specKey identifies a record's local spec: records with the same local
// type, kind and access string share one parsed Spec, and one RecordSpec
// when their instruction offsets are alike aligned.
type specKey struct {
	typeID     rawbtf.TypeID
	kind       core.Kind
	accessOff  uint32
	misaligned bool
}

// readCORE parses the CO-RE relocation subsection of .BTF.ext, read
// through sub a piece at a time.
func (o *Object) readCORE(sub *io.SectionReader) error {
	if sub == nil {
		return nil
	}
	order := o.BTF.ByteOrder()
	size := sub.Size()
	var word [8]byte
	if size < 4 {
		return fmt.Errorf("%w: CO-RE relocation record size missing", ErrBadBTFExt)
	}
	if _, err := sub.ReadAt(word[:4], 0); err != nil {
		return fmt.Errorf(".BTF.ext: %w", err)
	}
	recSize := order.Uint32(word[:])
	if recSize < 16 || recSize > 1024 || recSize%4 != 0 {
		return fmt.Errorf("%w: CO-RE relocation record size %d", ErrBadBTFExt, recSize)
	}
	if size == 4 {
		return fmt.Errorf("%w: CO-RE relocation subsection without records", ErrBadBTFExt)
	}
	// Count the records first, to allocate them at once.
	total := 0
	for pos := int64(4); size-pos >= 8; {
		if _, err := sub.ReadAt(word[:], pos); err != nil {
			return fmt.Errorf(".BTF.ext: %w", err)
		}
		n := uint64(order.Uint32(word[4:]))
		if n*uint64(recSize) > uint64(size-pos-8) {
			break // reported below
		}
		total += int(n)
		pos += 8 + int64(n)*int64(recSize)
	}
	o.Relocations = make([]Relocation, 0, total)
	specs := map[specKey]*RecordSpec{}
	access := map[uint32]string{}
	r := bufio.NewReaderSize(io.NewSectionReader(sub, 4, size-4), 16<<10)
	rest := size - 4
	rec := make([]byte, recSize)
	for rest > 0 {
		if rest < 8 {
			return fmt.Errorf("%w: truncated section header", ErrBadBTFExt)
		}
		if _, err := io.ReadFull(r, word[:]); err != nil {
			return fmt.Errorf(".BTF.ext: %w", err)
		}
		rest -= 8
		nameOff, n := order.Uint32(word[:]), order.Uint32(word[4:])
		secName := o.BTF.StringBytes(nameOff)
		if len(secName) == 0 {
			return fmt.Errorf("%w: section name offset %d invalid", ErrBadBTFExt, nameOff)
		}
		if n == 0 {
			return fmt.Errorf("%w: section %q with no CO-RE relocation records", ErrBadBTFExt, secName)
		}
		if uint64(n)*uint64(recSize) > uint64(rest) {
			return fmt.Errorf("%w: %d records of section %q beyond end", ErrBadBTFExt, n, secName)
		}
		section := string(secName)
		progs := o.sectionPrograms(section)
		apart := disjoint(progs)
		places := map[string]*Place{}
		for i := 0; i < int(n); i++ {
			if _, err := io.ReadFull(r, rec); err != nil {
				return fmt.Errorf(".BTF.ext: %w", err)
			}
			accessOff := order.Uint32(rec[8:])
			acc, ok := access[accessOff]
			if !ok {
				acc = o.BTF.String(accessOff)
				access[accessOff] = acc
			}
			r := Relocation{
				Relo: core.Relo{
					InsnOff: order.Uint32(rec),
					TypeID:  rawbtf.TypeID(order.Uint32(rec[4:])),
					Access:  acc,
					Kind:    core.Kind(order.Uint32(rec[12:])),
				},
				Index: i,
			}
			prog := programAt(progs, apart, r.InsnOff)
			if r.Place = places[prog]; r.Place == nil {
				r.Place = &Place{Section: section, Program: prog}
				places[prog] = r.Place
			}
			k := specKey{r.TypeID, r.Kind, accessOff, r.InsnOff%8 != 0}
			if r.RecordSpec = specs[k]; r.RecordSpec == nil {
				// Records of the other alignment share the parse.
				other := k
				other.misaligned = !k.misaligned
				rs := &RecordSpec{}
				if twin := specs[other]; twin != nil {
					rs.Spec, rs.SpecErr = twin.Spec, twin.SpecErr
				} else {
					rs.Spec, rs.SpecErr = core.ParseLocal(o.BTF, r.Relo)
				}
				r.RecordSpec = rs
				rs.Invalid = o.invalid(&r, accessOff)
				specs[k] = rs
			}
			o.Relocations = append(o.Relocations, r)
		}
		rest -= int64(n) * int64(recSize)
	}
	return nil
}
