package btfdiff

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// Op is what happened to a type or to a part of it.
type Op string

// The operations, printed as in a diff.
const (
	Added   Op = "+"
	Removed Op = "-"
	Changed Op = "~"
)

// Key identifies a top-level type by kind class and name. Kind is one of
// "struct", "union", "enum" (ENUM and ENUM64), "typedef", "int", "float",
// "fwd", "func" and "var". Anonymous types unreferenced by any other type
// have a Name of the form "<anon:FIRST_MEMBER>".
type Key struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// String returns "struct task_struct".
func (k Key) String() string { return k.Kind + " " + k.Name }

// TypeDiff is a type added, removed or changed.
type TypeDiff struct {
	Key
	Op Op `json:"op"`
	// Changes lists what changed, for Op Changed; nil otherwise.
	Changes []Change `json:"changes,omitempty"`
	// Relocations lists, when the report was made with Options.Usage, the
	// indices in Report.Relocations of the relocations touching the type.
	Relocations []int `json:"relocations,omitempty"`
}

// Change is one difference within a type.
type Change struct {
	Op Op `json:"op"`
	// What is the part that changed: "member", "size", "kind", "enumerator",
	// "signedness", "target" (of a typedef), "encoding" (of an int),
	// "return", "param", "linkage", "type" (of a var) or "variant".
	What string `json:"what"`
	// Path names the member, enumerator or parameter, from the type:
	// "__state", "<anon union:__state>.flags", "2 (flags)". Empty for the
	// type itself.
	Path string `json:"path,omitempty"`
	// Detail says how a member changed: "retyped", "moved", "bitfield",
	// several separated by commas.
	Detail string `json:"detail,omitempty"`
	// Old and New describe the part before and after, by names and
	// offsets, never type IDs ("unsigned int at 24"). Old is empty for an
	// addition, New for a removal.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Variant numbers, from 1, the pair of same-named types the change was
	// found in when a name has several differing forms; 0 otherwise.
	Variant int `json:"variant,omitempty"`
}

// String formats the change as one line: "+ member __state: unsigned int
// at 24", "~ member pid (moved): int at 1256 → int at 1384",
// "~ size: 16 → 24".
func (c Change) String() string {
	var sb strings.Builder
	sb.WriteString(string(c.Op))
	sb.WriteByte(' ')
	if c.Variant > 0 {
		fmt.Fprintf(&sb, "[variant %d] ", c.Variant)
	}
	sb.WriteString(c.What)
	if c.Path != "" {
		sb.WriteByte(' ')
		sb.WriteString(c.Path)
	}
	if c.Detail != "" {
		sb.WriteString(" (")
		sb.WriteString(c.Detail)
		sb.WriteByte(')')
	}
	switch c.Op {
	case Added:
		if c.New != "" {
			sb.WriteString(": ")
			sb.WriteString(c.New)
		}
	case Removed:
		if c.Old != "" {
			sb.WriteString(": ")
			sb.WriteString(c.Old)
		}
	default:
		sb.WriteString(": ")
		sb.WriteString(c.Old)
		sb.WriteString(" → ")
		sb.WriteString(c.New)
	}
	return sb.String()
}

// Report is the result of Diff.
type Report struct {
	// Types lists the types with differences, sorted by name and kind.
	Types []TypeDiff `json:"types"`
	// Changed, Added and Removed count Types by Op.
	Changed int `json:"changed"`
	Added   int `json:"added"`
	Removed int `json:"removed"`
	// Relocations is Options.Usage's list of relocations, when given.
	Relocations []Relocation `json:"relocations,omitempty"`
}

// Empty reports whether the report holds no difference: no type changed
// and, with Options.Usage, no relocation decided differently.
func (r *Report) Empty() bool {
	if len(r.Types) > 0 {
		return false
	}
	for _, rel := range r.Relocations {
		if rel.Verdict != VerdictSame {
			return false
		}
	}
	return true
}

// Options restrict a diff. The zero value compares everything.
type Options struct {
	// Scope, when not nil, restricts the diff to the types it holds.
	Scope *Scope
	// Usage, when not nil, restricts the diff to the types its
	// relocations touch (intersected with Scope), and the report lists the
	// relocations and, for each type, which of them touch it.
	Usage *Usage
}

// Diff compares OLD and NEW. It never fails: malformed references (which
// rawbtf.Parse rejects anyway) are described as "?".
func Diff(old, new *rawbtf.BTF, opts *Options) *Report {
	if opts == nil {
		opts = &Options{}
	}
	var o, n *side
	var wg sync.WaitGroup
	wg.Go(func() { o = newSide(old) })
	n = newSide(new)
	wg.Wait()
	d := &differ{o: o, n: n, scope: opts.Scope, rep: &Report{Types: []TypeDiff{}}}
	if opts.Usage != nil {
		d.usage = opts.Usage
		d.rep.Relocations = opts.Usage.Relocations
	}
	oe, ne := o.entries, n.entries
	i, j := 0, 0
	for i < len(oe) || j < len(ne) {
		c := 0
		switch {
		case i == len(oe):
			c = 1
		case j == len(ne):
			c = -1
		default:
			c = compareKey(oe[i], ne[j])
		}
		i1, j1 := i, j
		if c <= 0 {
			i1 = groupEnd(oe, i)
		}
		if c >= 0 {
			j1 = groupEnd(ne, j)
		}
		d.group(oe[i:i1], ne[j:j1])
		i, j = i1, j1
	}
	for _, t := range d.rep.Types {
		switch t.Op {
		case Added:
			d.rep.Added++
		case Removed:
			d.rep.Removed++
		default:
			d.rep.Changed++
		}
	}
	return d.rep
}

func compareKey(a, b entry) int {
	if c := bytes.Compare(a.name, b.name); c != 0 {
		return c
	}
	return cmp.Compare(a.cls, b.cls)
}

func groupEnd(es []entry, i int) int {
	j := i + 1
	for j < len(es) && es[j].cls == es[i].cls && bytes.Equal(es[j].name, es[i].name) {
		j++
	}
	return j
}

type differ struct {
	o, n  *side
	scope *Scope
	usage *Usage
	rep   *Report
	// changes accumulates the changes of the type being compared.
	changes []Change
	variant int
}

func (d *differ) add(k Key, op Op, changes []Change) {
	td := TypeDiff{Key: k, Op: op, Changes: changes}
	if d.usage != nil {
		td.Relocations = d.usage.touching[k]
	}
	d.rep.Types = append(d.rep.Types, td)
}

func (d *differ) inScope(k Key) bool {
	if d.scope != nil && !d.scope.Has(k) {
		return false
	}
	if d.usage != nil && !d.usage.Scope.Has(k) {
		return false
	}
	return true
}

// group compares the types of OLD and NEW sharing a kind class and name.
func (d *differ) group(og, ng []entry) {
	e := og
	if len(e) == 0 {
		e = ng
	}
	if e[0].name == nil {
		if d.scope == nil && d.usage == nil {
			d.anonPool(og, ng)
		}
		return
	}
	k := Key{Kind: e[0].cls.String(), Name: string(e[0].name)}
	if !d.inScope(k) {
		return
	}
	switch {
	case len(og) == 0:
		d.add(k, Added, nil)
		return
	case len(ng) == 0:
		d.add(k, Removed, nil)
		return
	case len(og) == 1 && len(ng) == 1:
		ot, nt := d.o.b.Type(og[0].id), d.n.b.Type(ng[0].id)
		if d.o.shape(ot, 0) == d.n.shape(nt, 0) {
			return
		}
		d.changes, d.variant = nil, 0
		d.compare(ot, nt, "", 0)
		if len(d.changes) > 0 {
			d.add(k, Changed, d.changes)
		}
		return
	}
	ro, rn := d.residuals(og, ng)
	if len(ro) == 0 && len(rn) == 0 {
		return
	}
	d.changes = nil
	pairs, uo, un := d.pair(ro, rn)
	numbered := len(ro) > 1 || len(rn) > 1
	for i, p := range pairs {
		d.variant = 0
		if numbered {
			d.variant = i + 1
		}
		d.compare(d.o.b.Type(p[0]), d.n.b.Type(p[1]), "", 0)
	}
	d.variant = 0
	for _, id := range uo {
		d.changes = append(d.changes, Change{Op: Removed, What: "variant", Old: summary(d.o.b.Type(id))})
	}
	for _, id := range un {
		d.changes = append(d.changes, Change{Op: Added, What: "variant", New: summary(d.n.b.Type(id))})
	}
	if len(d.changes) > 0 {
		d.add(k, Changed, d.changes)
	}
}

// residuals returns the distinct forms of og absent from ng and those of
// ng absent from og, one type each, in ID order.
func (d *differ) residuals(og, ng []entry) (ro, rn []rawbtf.TypeID) {
	oh := make(map[uint64]rawbtf.TypeID, len(og))
	for _, e := range og {
		h := d.o.shape(d.o.b.Type(e.id), 0)
		if _, ok := oh[h]; !ok {
			oh[h] = e.id
		}
	}
	nh := make(map[uint64]bool, len(ng))
	for _, e := range ng {
		h := d.n.shape(d.n.b.Type(e.id), 0)
		if nh[h] {
			continue
		}
		nh[h] = true
		if _, ok := oh[h]; !ok {
			rn = append(rn, e.id)
		}
	}
	for _, e := range og {
		h := d.o.shape(d.o.b.Type(e.id), 0)
		if id := oh[h]; id == e.id && !nh[h] {
			ro = append(ro, e.id)
		}
	}
	return ro, rn
}

// names returns the member or enumerator names of t, through anonymous
// members.
func names(t rawbtf.Type, out [][]byte) [][]byte {
	return appendNames(t, out, 0)
}

func appendNames(t rawbtf.Type, out [][]byte, depth int) [][]byte {
	b := t.BTF()
	switch t.Kind() {
	case rawbtf.KindStruct, rawbtf.KindUnion:
		for i := range t.Vlen() {
			m := t.Member(i)
			if name := b.StringBytes(m.NameOff); len(name) > 0 {
				out = append(out, name)
			} else if mt := b.Type(m.Type); mt.Kind().IsComposite() && depth < maxDepth {
				out = appendNames(mt, out, depth+1)
			}
		}
	case rawbtf.KindEnum, rawbtf.KindEnum64:
		for i := range t.Vlen() {
			out = append(out, b.StringBytes(t.EnumValue(i).NameOff))
		}
	}
	return out
}

// shared counts the names of a also in b.
func shared(a, b [][]byte) int {
	n := 0
	if len(a)*len(b) > 4096 {
		set := make(map[string]struct{}, len(b))
		for _, x := range b {
			set[string(x)] = struct{}{}
		}
		for _, x := range a {
			if _, ok := set[string(x)]; ok {
				n++
			}
		}
		return n
	}
	for _, x := range a {
		for _, y := range b {
			if bytes.Equal(x, y) {
				n++
				break
			}
		}
	}
	return n
}

// firstShared returns the first name of a also in b, else a's first name.
func firstShared(a, b [][]byte) []byte {
	for _, x := range a {
		for _, y := range b {
			if bytes.Equal(x, y) {
				return x
			}
		}
	}
	if len(a) > 0 {
		return a[0]
	}
	return nil
}

// pair matches the residual forms of OLD and NEW by the most names in
// common, greedily in OLD's order; forms with no names in common with any
// are paired in order only when neither has names. It returns the pairs
// and the unpaired forms of each side.
func (d *differ) pair(ro, rn []rawbtf.TypeID) (pairs [][2]rawbtf.TypeID, uo, un []rawbtf.TypeID) {
	if len(ro) == 1 && len(rn) == 1 {
		return [][2]rawbtf.TypeID{{ro[0], rn[0]}}, nil, nil
	}
	nnames := make([][][]byte, len(rn))
	for i, id := range rn {
		nnames[i] = names(d.n.b.Type(id), nil)
	}
	used := make([]bool, len(rn))
	var onames [][]byte
	for _, oid := range ro {
		ot := d.o.b.Type(oid)
		onames = names(ot, onames[:0])
		best, bestScore := -1, 0
		for i, nid := range rn {
			if used[i] {
				continue
			}
			score := shared(onames, nnames[i]) * 2
			if len(onames) == 0 && len(nnames[i]) == 0 {
				score = 1
			}
			if score > 0 && d.n.b.Type(nid).Size() == ot.Size() {
				score++
			}
			if score > bestScore {
				best, bestScore = i, score
			}
		}
		if best < 0 {
			uo = append(uo, oid)
			continue
		}
		used[best] = true
		pairs = append(pairs, [2]rawbtf.TypeID{oid, rn[best]})
	}
	for i, id := range rn {
		if !used[i] {
			un = append(un, id)
		}
	}
	return pairs, uo, un
}

// anonPool compares the unreferenced anonymous types of one class.
func (d *differ) anonPool(og, ng []entry) {
	ro, rn := d.residuals(og, ng)
	if len(ro) == 0 && len(rn) == 0 {
		return
	}
	pairs, uo, un := d.pair(ro, rn)
	cls := ng
	if len(og) > 0 {
		cls = og
	}
	anonKey := func(t rawbtf.Type, other [][]byte) Key {
		first := firstShared(names(t, nil), other)
		name := "<anon>"
		if first != nil {
			name = "<anon:" + string(first) + ">"
		}
		return Key{Kind: cls[0].cls.String(), Name: name}
	}
	type pending struct {
		k  Key
		op Op
		ch []Change
	}
	var out []pending
	for _, p := range pairs {
		ot, nt := d.o.b.Type(p[0]), d.n.b.Type(p[1])
		d.changes, d.variant = nil, 0
		d.compare(ot, nt, "", 0)
		if len(d.changes) > 0 {
			out = append(out, pending{anonKey(ot, names(nt, nil)), Changed, d.changes})
		}
	}
	for _, id := range uo {
		out = append(out, pending{anonKey(d.o.b.Type(id), nil), Removed, nil})
	}
	for _, id := range un {
		out = append(out, pending{anonKey(d.n.b.Type(id), nil), Added, nil})
	}
	for _, p := range out {
		d.add(p.k, p.op, p.ch)
	}
}

// summary describes a type in a line: "size 16, 3 members".
func summary(t rawbtf.Type) string {
	switch k := t.Kind(); k {
	case rawbtf.KindStruct, rawbtf.KindUnion:
		return fmt.Sprintf("%s of size %d, %d members", k.C(), t.Size(), t.Vlen())
	case rawbtf.KindEnum, rawbtf.KindEnum64:
		return fmt.Sprintf("%s of size %d, %d enumerators", k.C(), t.Size(), t.Vlen())
	case rawbtf.KindTypedef:
		return "typedef of " + typeString(t.BTF(), t.Ref())
	case rawbtf.KindFunc, rawbtf.KindVar:
		return typeString(t.BTF(), t.Ref())
	}
	return fmt.Sprintf("%s of size %d", t.Kind().C(), t.Size())
}

func (d *differ) emit(c Change) {
	c.Variant = d.variant
	d.changes = append(d.changes, c)
}

func trimDot(prefix string) string { return strings.TrimSuffix(prefix, ".") }

// compare records the differences between ot and nt, two types of the same
// class; prefix is the path of ot and nt from the reported type, "" or
// ending in ".".
func (d *differ) compare(ot, nt rawbtf.Type, prefix string, depth int) {
	if depth > maxDepth {
		return
	}
	ok, nk := ot.Kind(), nt.Kind()
	if ok != nk {
		d.emit(Change{Op: Changed, What: "kind", Path: trimDot(prefix), Old: ok.C(), New: nk.C()})
		if !(ok.IsEnum() && nk.IsEnum()) && !(ok.IsComposite() && nk.IsComposite()) {
			return
		}
	}
	switch {
	case ok.IsComposite():
		d.composite(ot, nt, prefix, depth)
	case ok.IsEnum():
		d.enum(ot, nt, prefix)
	case ok == rawbtf.KindTypedef:
		d.ref("target", ot.Ref(), nt.Ref(), prefix, depth)
	case ok == rawbtf.KindInt:
		if ot.Size() != nt.Size() || d.o.shape(ot, 0) != d.n.shape(nt, 0) {
			d.emit(Change{Op: Changed, What: "encoding", Path: trimDot(prefix), Old: intString(ot), New: intString(nt)})
		}
	case ok == rawbtf.KindFloat:
		if ot.Size() != nt.Size() {
			d.emit(Change{Op: Changed, What: "size", Path: trimDot(prefix), Old: strconv.Itoa(int(ot.Size())), New: strconv.Itoa(int(nt.Size()))})
		}
	case ok == rawbtf.KindFwd:
		if ot.KindFlag() != nt.KindFlag() {
			d.emit(Change{Op: Changed, What: "kind", Path: trimDot(prefix), Old: fwdKind(ot), New: fwdKind(nt)})
		}
	case ok == rawbtf.KindFunc || ok == rawbtf.KindVar:
		if ot.Linkage() != nt.Linkage() {
			d.emit(Change{Op: Changed, What: "linkage", Old: linkage(ot.Linkage()), New: linkage(nt.Linkage())})
		}
		if ok == rawbtf.KindVar {
			d.ref("type", ot.Ref(), nt.Ref(), prefix, depth)
			break
		}
		op, np := d.o.b.Type(ot.Ref()), d.n.b.Type(nt.Ref())
		if op.Kind() != rawbtf.KindFuncProto || np.Kind() != rawbtf.KindFuncProto {
			d.ref("type", ot.Ref(), nt.Ref(), prefix, depth)
			break
		}
		d.proto(op, np)
	}
}

func fwdKind(t rawbtf.Type) string {
	if t.KindFlag() {
		return "union"
	}
	return "struct"
}

func linkage(l uint32) string {
	switch l {
	case 0:
		return "static"
	case 1:
		return "global"
	case 2:
		return "extern"
	}
	return strconv.Itoa(int(l))
}

func intString(t rawbtf.Type) string {
	enc, off, bits := t.IntEncoding()
	var parts []string
	parts = append(parts, fmt.Sprintf("size %d", t.Size()))
	if enc&rawbtf.IntSigned != 0 {
		parts = append(parts, "signed")
	}
	if enc&rawbtf.IntChar != 0 {
		parts = append(parts, "char")
	}
	if enc&rawbtf.IntBool != 0 {
		parts = append(parts, "bool")
	}
	s := strings.Join(parts, ", ") + fmt.Sprintf(", %d bits", bits)
	if off != 0 {
		s += fmt.Sprintf(" at bit %d", off)
	}
	return s
}

// anonCore follows modifiers and arrays from id to an anonymous struct,
// union or enum; wrap describes what was followed ("[4]").
func anonCore(b *rawbtf.BTF, id rawbtf.TypeID) (t rawbtf.Type, wrap string, ok bool) {
	for range maxDepth {
		t = b.Type(id)
		k := t.Kind()
		switch {
		case k.IsModifier():
			wrap += k.C() + " "
			id = t.Ref()
		case k == rawbtf.KindArray:
			a := t.Array()
			wrap += "[" + strconv.FormatUint(uint64(a.Nelems), 10) + "]"
			id = a.Type
		case k.IsComposite() || k.IsEnum():
			return t, wrap, len(t.NameBytes()) == 0
		default:
			return t, wrap, false
		}
	}
	return t, wrap, false
}

// ref compares two referenced types (a typedef's target, a var's type):
// anonymous types in both are compared member by member, others by
// description.
func (d *differ) ref(what string, oid, nid rawbtf.TypeID, prefix string, depth int) {
	if d.o.descOf(oid, 0) == d.n.descOf(nid, 0) {
		return
	}
	if ot, ow, ok := anonCore(d.o.b, oid); ok {
		if nt, nw, ok := anonCore(d.n.b, nid); ok && ow == nw && ot.Kind().IsEnum() == nt.Kind().IsEnum() {
			d.compare(ot, nt, prefix, depth+1)
			return
		}
	}
	d.emit(Change{Op: Changed, What: what, Path: trimDot(prefix), Old: typeString(d.o.b, oid), New: typeString(d.n.b, nid)})
}

func (d *differ) proto(op, np rawbtf.Type) {
	if d.o.descOf(op.Ref(), 0) != d.n.descOf(np.Ref(), 0) {
		d.emit(Change{Op: Changed, What: "return", Old: typeString(d.o.b, op.Ref()), New: typeString(d.n.b, np.Ref())})
	}
	paramPath := func(t rawbtf.Type, i int) string {
		p := t.Param(i)
		if name := t.BTF().StringBytes(p.NameOff); len(name) > 0 {
			return fmt.Sprintf("%d (%s)", i+1, name)
		}
		return strconv.Itoa(i + 1)
	}
	on, nn := op.Vlen(), np.Vlen()
	for i := range min(on, nn) {
		ot, nt := op.Param(i).Type, np.Param(i).Type
		if d.o.descOf(ot, 0) != d.n.descOf(nt, 0) {
			d.emit(Change{Op: Changed, What: "param", Path: paramPath(np, i), Old: typeString(d.o.b, ot), New: typeString(d.n.b, nt)})
		}
	}
	for i := nn; i < on; i++ {
		d.emit(Change{Op: Removed, What: "param", Path: paramPath(op, i), Old: typeString(d.o.b, op.Param(i).Type)})
	}
	for i := on; i < nn; i++ {
		d.emit(Change{Op: Added, What: "param", Path: paramPath(np, i), New: typeString(d.n.b, np.Param(i).Type)})
	}
}

func (d *differ) enum(ot, nt rawbtf.Type, prefix string) {
	path := trimDot(prefix)
	if ot.Size() != nt.Size() {
		d.emit(Change{Op: Changed, What: "size", Path: path, Old: strconv.Itoa(int(ot.Size())), New: strconv.Itoa(int(nt.Size()))})
	}
	if ot.KindFlag() != nt.KindFlag() {
		sign := func(t rawbtf.Type) string {
			if t.KindFlag() {
				return "signed"
			}
			return "unsigned"
		}
		d.emit(Change{Op: Changed, What: "signedness", Path: path, Old: sign(ot), New: sign(nt)})
	}
	ob, nb := ot.BTF(), nt.BTF()
	byName := make(map[string]int, nt.Vlen())
	for i := range nt.Vlen() {
		byName[string(nb.StringBytes(nt.EnumValue(i).NameOff))] = i
	}
	matched := make([]bool, nt.Vlen())
	for i := range ot.Vlen() {
		name := ob.StringBytes(ot.EnumValue(i).NameOff)
		j, ok := byName[string(name)]
		if !ok || matched[j] {
			d.emit(Change{Op: Removed, What: "enumerator", Path: prefix + string(name), Old: enumValueString(ot, i)})
			continue
		}
		matched[j] = true
		if enumValue(ot, i) != enumValue(nt, j) {
			d.emit(Change{Op: Changed, What: "enumerator", Path: prefix + string(name), Old: enumValueString(ot, i), New: enumValueString(nt, j)})
		}
	}
	for j := range nt.Vlen() {
		if !matched[j] {
			d.emit(Change{Op: Added, What: "enumerator", Path: prefix + string(nb.StringBytes(nt.EnumValue(j).NameOff)), New: enumValueString(nt, j)})
		}
	}
}

// anonMember is an unnamed member of a composite.
type anonMember struct {
	idx   int
	kind  rawbtf.Kind
	names [][]byte
	match int // index in the other side's anonMembers, -1 if none
	label string
}

func anonMembers(t rawbtf.Type) []anonMember {
	b := t.BTF()
	var out []anonMember
	for i := range t.Vlen() {
		m := t.Member(i)
		if m.NameOff != 0 && len(b.StringBytes(m.NameOff)) > 0 {
			continue
		}
		mt := b.Type(m.Type)
		out = append(out, anonMember{idx: i, kind: mt.Kind(), names: names(mt, nil), match: -1})
	}
	return out
}

// matchAnon pairs the anonymous members of OLD and NEW (see the package
// documentation) and labels them.
func matchAnon(oa, na []anonMember) {
	for i := range oa {
		best, bestScore := -1, 0
		for j := range na {
			if na[j].match >= 0 || na[j].kind != oa[i].kind {
				continue
			}
			if s := shared(oa[i].names, na[j].names); s > bestScore {
				best, bestScore = j, s
			}
		}
		if best >= 0 {
			oa[i].match, na[best].match = best, i
		}
	}
	// Members without names: in order, by kind.
	for i := range oa {
		if oa[i].match >= 0 || len(oa[i].names) > 0 {
			continue
		}
		for j := range na {
			if na[j].match < 0 && len(na[j].names) == 0 && na[j].kind == oa[i].kind {
				oa[i].match, na[j].match = j, i
				break
			}
		}
	}
	label := func(a *anonMember, other [][]byte, all []anonMember) string {
		if first := firstShared(a.names, other); first != nil {
			return "<anon " + a.kind.C() + ":" + string(first) + ">"
		}
		n := 0
		for k := range all {
			if all[k].kind == a.kind {
				n++
			}
			if all[k].idx == a.idx {
				break
			}
		}
		return fmt.Sprintf("<anon %s #%d>", a.kind.C(), n)
	}
	for i := range oa {
		var other [][]byte
		if oa[i].match >= 0 {
			other = na[oa[i].match].names
		}
		oa[i].label = label(&oa[i], other, oa)
		if oa[i].match >= 0 {
			na[oa[i].match].label = oa[i].label
		}
	}
	for j := range na {
		if na[j].match < 0 {
			na[j].label = label(&na[j], nil, na)
		}
	}
}

func (d *differ) composite(ot, nt rawbtf.Type, prefix string, depth int) {
	ob, nb := ot.BTF(), nt.BTF()
	if ot.Size() != nt.Size() {
		d.emit(Change{Op: Changed, What: "size", Path: trimDot(prefix), Old: strconv.Itoa(int(ot.Size())), New: strconv.Itoa(int(nt.Size()))})
	}
	on, nn := ot.Vlen(), nt.Vlen()
	// match[i] is the member of nt matched with member i of ot, or -1.
	match := make([]int, on)
	matched := make([]bool, nn)
	byName := make(map[string]int, nn)
	for j := range nn {
		if name := nb.StringBytes(nt.Member(j).NameOff); len(name) > 0 {
			byName[string(name)] = j
		}
	}
	for i := range on {
		match[i] = -1
		if name := ob.StringBytes(ot.Member(i).NameOff); len(name) > 0 {
			if j, ok := byName[string(name)]; ok && !matched[j] {
				match[i], matched[j] = j, true
			}
		}
	}
	oa, na := anonMembers(ot), anonMembers(nt)
	matchAnon(oa, na)
	olabel := make(map[int]string, len(oa))
	for _, a := range oa {
		olabel[a.idx] = a.label
		if a.match >= 0 {
			match[a.idx], matched[na[a.match].idx] = na[a.match].idx, true
		}
	}
	nlabel := make(map[int]string, len(na))
	for _, a := range na {
		nlabel[a.idx] = a.label
	}
	// Changes are listed in member offset order (NEW's offset for members
	// still there, OLD's for removed ones), a block per member.
	type block struct {
		off     uint32
		changes []Change
	}
	var blocks []block
	outer := d.changes
	for i := range on {
		d.changes = nil
		om := ot.Member(i)
		path := olabel[i]
		if path == "" {
			path = string(ob.StringBytes(om.NameOff))
		}
		path = prefix + path
		if match[i] < 0 {
			d.emit(Change{Op: Removed, What: "member", Path: path, Old: memberString(ob, om)})
			blocks = append(blocks, block{om.BitOffset, d.changes})
			continue
		}
		nm := nt.Member(match[i])
		var detail []string
		if d.o.descOf(om.Type, 0) != d.n.descOf(nm.Type, 0) {
			oc, ow, ook := anonCore(ob, om.Type)
			nc, nw, nok := anonCore(nb, nm.Type)
			if ook && nok && ow == nw && oc.Kind().IsEnum() == nc.Kind().IsEnum() {
				sub := path
				if ow != "" {
					sub += "[]"
				}
				d.compare(oc, nc, sub+".", depth+1)
			} else {
				detail = append(detail, "retyped")
			}
		}
		if om.BitOffset != nm.BitOffset {
			detail = append(detail, "moved")
		}
		if om.BitfieldSize != nm.BitfieldSize {
			detail = append(detail, "bitfield")
		}
		if len(detail) > 0 {
			c := Change{Op: Changed, What: "member", Path: path, Detail: strings.Join(detail, ", "), Old: memberString(ob, om), New: memberString(nb, nm)}
			c.Variant = d.variant
			d.changes = append([]Change{c}, d.changes...)
		}
		if len(d.changes) > 0 {
			blocks = append(blocks, block{nm.BitOffset, d.changes})
		}
	}
	for j := range nn {
		if matched[j] {
			continue
		}
		d.changes = nil
		nm := nt.Member(j)
		path := nlabel[j]
		if path == "" {
			path = string(nb.StringBytes(nm.NameOff))
		}
		d.emit(Change{Op: Added, What: "member", Path: prefix + path, New: memberString(nb, nm)})
		blocks = append(blocks, block{nm.BitOffset, d.changes})
	}
	slices.SortStableFunc(blocks, func(a, b block) int { return cmp.Compare(a.off, b.off) })
	d.changes = outer
	for _, b := range blocks {
		d.changes = append(d.changes, b.changes...)
	}
}
