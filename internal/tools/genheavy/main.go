// Command genheavy writes the C source of a heavy BPF object: many
// programs with thousands of CO-RE reads over the structs of one kernel
// BTF — pointer chains, embedded members, array elements, bitfields,
// field existence and sizes, enum values, type existence, sizes and
// matches — the programs sharing a pool of distinct accesses, as large
// security agents do. Compile it with clang-19 -target bpf -g -O2 against
// the vmlinux.h of the same kernel (bpftool btf dump file KERNEL format c);
// scripts/bench-heavy.sh does both.
//
//	genheavy -btf KERNEL [-relocs N] [-distinct D] [-per-prog K] [-seed S] [-o FILE]
//
// The kernel may be raw BTF or any container btftool reads (.btf.tar.xz).
// The relocation count is an estimate from the accesses emitted; the
// compiler may merge a few.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"

	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

func main() {
	btfPath := flag.String("btf", "", "kernel BTF (raw or any container btftool reads)")
	out := flag.String("o", "-", "output C file (- for stdout)")
	relocs := flag.Int("relocs", 35000, "CO-RE relocations to emit (estimate)")
	distinct := flag.Int("distinct", 400, "distinct accesses in the shared pool")
	perProg := flag.Int("per-prog", 60, "accesses per program")
	seed := flag.Uint64("seed", 1, "random seed: the same seed gives the same source")
	flag.Parse()
	if *btfPath == "" || flag.NArg() != 0 || *relocs <= 0 || *distinct <= 0 || *perProg <= 0 {
		fmt.Fprintln(os.Stderr, "usage: genheavy -btf KERNEL [-relocs N] [-distinct D] [-per-prog K] [-seed S] [-o FILE]")
		os.Exit(2)
	}
	if err := run(*btfPath, *out, *relocs, *distinct, *perProg, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genheavy:", err)
		os.Exit(1)
	}
}

func run(btfPath, out string, relocs, distinct, perProg int, seed uint64) error {
	data, _, err := kbtf.ReadFile(btfPath, nil)
	if err != nil {
		return err
	}
	b, err := rawbtf.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", btfPath, err)
	}
	g := newGen(b, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)))
	pool := g.pool(distinct)
	if len(pool) == 0 {
		return fmt.Errorf("%s: no struct with readable members", btfPath)
	}
	w := io.Writer(os.Stdout)
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	n := g.write(bw, pool, relocs, perProg, seed)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	fmt.Fprintf(os.Stderr, "genheavy: %d programs, %d distinct accesses, about %d relocations\n", n.progs, len(pool), n.relocs)
	return nil
}

// access is one C expression and the relocations it costs.
type access struct {
	expr   string // a u64-valued expression over "base"
	relocs int
}

type gen struct {
	b *rawbtf.BTF
	r *rand.Rand
	// structs are the named structs with a unique name, and enums the
	// named enums whose name and enumerators are unique, as vmlinux.h
	// spells them unchanged.
	structs []rawbtf.TypeID
	// bitfields are the structs with a named bitfield member.
	bitfields []rawbtf.TypeID
	enums     []rawbtf.TypeID
	unique    map[string]bool
}

func newGen(b *rawbtf.BTF, r *rand.Rand) *gen {
	g := &gen{b: b, r: r, unique: map[string]bool{}}
	count := map[string]int{}
	enumerators := map[string]int{}
	for id := 1; id < b.NumTypes(); id++ {
		t := b.Type(rawbtf.TypeID(id))
		if n := t.Name(); n != "" {
			count[t.Kind().C()+" "+n]++
		}
		if t.Kind().IsEnum() {
			for i := 0; i < t.Vlen(); i++ {
				enumerators[b.String(t.EnumValue(i).NameOff)]++
			}
		}
	}
	for id := 1; id < b.NumTypes(); id++ {
		t := b.Type(rawbtf.TypeID(id))
		n := t.Name()
		if n == "" || count[t.Kind().C()+" "+n] != 1 {
			continue
		}
		switch {
		case t.Kind() == rawbtf.KindStruct && t.Vlen() > 0:
			g.structs = append(g.structs, t.ID)
			g.unique["struct "+n] = true
			for i := 0; i < t.Vlen(); i++ {
				if m := t.Member(i); m.BitfieldSize != 0 && m.NameOff != 0 {
					g.bitfields = append(g.bitfields, t.ID)
					break
				}
			}
		case t.Kind().IsEnum() && t.Vlen() > 0:
			ok := true
			for i := 0; i < t.Vlen() && ok; i++ {
				ok = enumerators[b.String(t.EnumValue(i).NameOff)] == 1
			}
			if ok {
				g.enums = append(g.enums, t.ID)
			}
		}
	}
	return g
}

// scalar reports whether a member of type id can be read into a u64.
func (g *gen) scalar(id rawbtf.TypeID) bool {
	t, ok := g.b.Skip(id)
	if !ok {
		return false
	}
	switch t.Kind() {
	case rawbtf.KindInt, rawbtf.KindEnum, rawbtf.KindEnum64:
		return t.Size() <= 8
	case rawbtf.KindPtr:
		return true
	}
	return false
}

// namedStruct returns the named, uniquely named struct a pointer member
// of type id points to.
func (g *gen) namedStruct(id rawbtf.TypeID) (rawbtf.TypeID, bool) {
	t, ok := g.b.Skip(id)
	if !ok || t.Kind() != rawbtf.KindPtr {
		return 0, false
	}
	p, ok := g.b.Skip(t.Ref())
	if !ok || p.Kind() != rawbtf.KindStruct || !g.unique["struct "+p.Name()] {
		return 0, false
	}
	return p.ID, true
}

type member struct {
	name     string
	typ      rawbtf.TypeID
	bitfield bool
}

func (g *gen) members(id rawbtf.TypeID) []member {
	t := g.b.Type(id)
	var ms []member
	for i := 0; i < t.Vlen(); i++ {
		m := t.Member(i)
		if n := g.b.String(m.NameOff); n != "" {
			ms = append(ms, member{name: n, typ: m.Type, bitfield: m.BitfieldSize != 0})
		}
	}
	return ms
}

// chain builds a BPF_CORE_READ path from struct id: members, embedded
// structs joined with '.', pointers to named structs as further steps, up
// to depth steps; it ends on a scalar.
func (g *gen) chain(id rawbtf.TypeID, depth int) (steps []string, ok bool) {
	ms := g.members(id)
	if len(ms) == 0 {
		return nil, false
	}
	for try := 0; try < 8; try++ {
		m := ms[g.r.IntN(len(ms))]
		if m.bitfield {
			continue
		}
		if next, ok := g.namedStruct(m.typ); ok && depth > 1 && g.r.IntN(2) == 0 {
			if rest, ok := g.chain(next, depth-1); ok {
				return append([]string{m.name}, rest...), true
			}
		}
		t, okT := g.b.Skip(m.typ)
		if !okT {
			continue
		}
		switch {
		case g.scalar(m.typ):
			return []string{m.name}, true
		case t.Kind() == rawbtf.KindStruct && t.Name() != "" && g.unique["struct "+t.Name()]:
			// An embedded struct: one access string through it.
			if sub, ok := g.embedded(t.ID); ok {
				return []string{m.name + "." + sub}, true
			}
		case t.Kind() == rawbtf.KindArray:
			a := t.Array()
			if a.Nelems > 1 && g.scalar(a.Type) {
				return []string{fmt.Sprintf("%s[%d]", m.name, g.r.IntN(int(a.Nelems)))}, true
			}
		}
	}
	return nil, false
}

// embedded returns a scalar member of struct id (not a bitfield).
func (g *gen) embedded(id rawbtf.TypeID) (string, bool) {
	for _, m := range g.members(id) {
		if !m.bitfield && g.scalar(m.typ) {
			return m.name, true
		}
	}
	return "", false
}

// pool returns n distinct accesses over a random set of structs and
// enums.
func (g *gen) pool(n int) []access {
	seen := map[string]bool{}
	var pool []access
	add := func(a access) {
		if a.expr != "" && !seen[a.expr] {
			seen[a.expr] = true
			pool = append(pool, a)
		}
	}
	// A few dozen hot structs take most accesses, as in real agents.
	hot := make([]rawbtf.TypeID, 0, 48)
	for len(hot) < 48 && len(g.structs) > 0 {
		hot = append(hot, g.structs[g.r.IntN(len(g.structs))])
	}
	pick := func() rawbtf.TypeID {
		if g.r.IntN(4) != 0 {
			return hot[g.r.IntN(len(hot))]
		}
		return g.structs[g.r.IntN(len(g.structs))]
	}
	for tries := 0; len(pool) < n && tries < 50*n; tries++ {
		s := pick()
		sname := "struct " + g.b.Type(s).Name()
		p := fmt.Sprintf("((%s *)base)", sname)
		switch k := g.r.IntN(20); {
		case k < 9: // field reads, pointer chains
			if steps, ok := g.chain(s, 1+g.r.IntN(4)); ok {
				add(access{fmt.Sprintf("(u64)BPF_CORE_READ(%s, %s)", p, strings.Join(steps, ", ")), len(steps)})
			}
		case k < 11: // bitfields: byte_off, byte_sz, lshift_u64, rshift_u64, signed
			if len(g.bitfields) == 0 {
				break
			}
			s := g.bitfields[g.r.IntN(len(g.bitfields))]
			p := fmt.Sprintf("((struct %s *)base)", g.b.Type(s).Name())
			var bf []member
			for _, m := range g.members(s) {
				if m.bitfield {
					bf = append(bf, m)
				}
			}
			add(access{fmt.Sprintf("(u64)BPF_CORE_READ_BITFIELD_PROBED(%s, %s)", p, bf[g.r.IntN(len(bf))].name), 5})
		case k < 13: // field existence and size
			if steps, ok := g.chain(s, 1); ok {
				if g.r.IntN(2) == 0 {
					add(access{fmt.Sprintf("(u64)bpf_core_field_exists(%s->%s)", p, steps[0]), 1})
				} else {
					add(access{fmt.Sprintf("(u64)bpf_core_field_size(%s->%s)", p, steps[0]), 1})
				}
			}
		case k < 16: // enum values
			if len(g.enums) > 0 {
				e := g.b.Type(g.enums[g.r.IntN(len(g.enums))])
				v := g.b.String(e.EnumValue(g.r.IntN(e.Vlen())).NameOff)
				if g.r.IntN(3) == 0 {
					add(access{fmt.Sprintf("(u64)bpf_core_enum_value_exists(enum %s, %s)", e.Name(), v), 1})
				} else {
					add(access{fmt.Sprintf("(u64)bpf_core_enum_value(enum %s, %s)", e.Name(), v), 1})
				}
			}
		default: // type checks
			switch g.r.IntN(4) {
			case 0:
				add(access{fmt.Sprintf("(u64)bpf_core_type_exists(%s)", sname), 1})
			case 1:
				add(access{fmt.Sprintf("(u64)bpf_core_type_size(%s)", sname), 1})
			case 2:
				add(access{fmt.Sprintf("(u64)bpf_core_type_matches(%s)", sname), 1})
			default:
				add(access{fmt.Sprintf("(u64)bpf_core_type_id_kernel(%s)", sname), 1})
			}
		}
	}
	sort.Slice(pool, func(i, j int) bool { return pool[i].expr < pool[j].expr })
	return pool
}

type counts struct{ progs, relocs int }

// write emits programs of perProg distinct accesses each, drawn from
// pool, until about relocs relocations are emitted.
func (g *gen) write(w io.Writer, pool []access, relocs, perProg int, seed uint64) counts {
	fmt.Fprintf(w, "// Code generated by genheavy (seed %d); DO NOT EDIT.\n", seed)
	fmt.Fprintln(w, "#include \"vmlinux.h\"")
	fmt.Fprintln(w, "#include <bpf/bpf_helpers.h>")
	fmt.Fprintln(w, "#include <bpf/bpf_core_read.h>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "char LICENSE[] SEC(\"license\") = \"GPL\";")
	fmt.Fprintln(w, "u64 out[4096];")
	var c counts
	if perProg > len(pool) {
		perProg = len(pool)
	}
	for c.relocs < relocs {
		fmt.Fprintf(w, "\nSEC(\"kprobe/do_nanosleep\")\nint heavy_%d(void *ctx)\n{\n", c.progs)
		fmt.Fprintln(w, "\tvoid *base = (void *)bpf_get_current_task();")
		fmt.Fprintln(w, "\tu64 acc = 0;")
		for _, i := range g.r.Perm(len(pool))[:perProg] {
			if c.relocs >= relocs {
				break
			}
			fmt.Fprintf(w, "\tacc += %s;\n", pool[i].expr)
			c.relocs += pool[i].relocs
		}
		fmt.Fprintf(w, "\tout[%d] = acc;\n\treturn 0;\n}\n", c.progs%4096)
		c.progs++
	}
	return c
}
