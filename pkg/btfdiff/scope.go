package btfdiff

import (
	"fmt"
	"path"
	"strings"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// Scope is a set of type keys a diff is restricted to.
type Scope struct {
	keys map[Key]struct{}
}

// NewScope returns a scope holding keys.
func NewScope(keys ...Key) *Scope {
	s := &Scope{keys: make(map[Key]struct{}, len(keys))}
	for _, k := range keys {
		s.Add(k)
	}
	return s
}

// Add adds k to the scope.
func (s *Scope) Add(k Key) { s.keys[k] = struct{}{} }

// Has reports whether k is in the scope.
func (s *Scope) Has(k Key) bool {
	_, ok := s.keys[k]
	return ok
}

// Len returns the number of keys in the scope.
func (s *Scope) Len() int { return len(s.keys) }

// keyOf returns the key of a named top-level type.
func keyOf(t rawbtf.Type) (Key, bool) {
	c := classOf(t.Kind())
	name := t.NameBytes()
	if c == clsNone || len(name) == 0 {
		return Key{}, false
	}
	return Key{Kind: c.String(), Name: string(name)}, true
}

// ErrBadPattern is wrapped by TypeScope's error for a malformed pattern.
var ErrBadPattern = path.ErrBadPattern

// TypeScope returns the types of the BTFs whose name matches one of
// patterns (path.Match syntax; a pattern with a space, "struct task_*",
// also matches the kind) and, transitively, the types they contain: member
// types, typedef targets, array elements, function parameter and return
// types and variable types, not following pointers. An error wrapping
// ErrBadPattern is returned for a malformed pattern.
func TypeScope(patterns []string, bs ...*rawbtf.BTF) (*Scope, error) {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("type pattern %q: %w", p, err)
		}
	}
	s := NewScope()
	for _, b := range bs {
		w := &walker{b: b, s: s, seen: make([]bool, b.NumTypes())}
		for id := 1; id < b.NumTypes(); id++ {
			t := b.Type(rawbtf.TypeID(id))
			k, ok := keyOf(t)
			if !ok || !matchAny(patterns, k) {
				continue
			}
			w.follow(t.ID, 0)
		}
	}
	return s, nil
}

func matchAny(patterns []string, k Key) bool {
	for _, p := range patterns {
		name := k.Name
		if strings.Contains(p, " ") {
			name = k.String()
		}
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// walker adds to s the named types contained in the types it follows.
type walker struct {
	b    *rawbtf.BTF
	s    *Scope
	seen []bool
}

func (w *walker) follow(id rawbtf.TypeID, depth int) {
	if id == 0 || !w.b.Valid(id) || w.seen[id] || depth > 4*maxDepth {
		return
	}
	w.seen[id] = true
	t := w.b.Type(id)
	if k, ok := keyOf(t); ok {
		w.s.Add(k)
	}
	switch t.Kind() {
	case rawbtf.KindStruct, rawbtf.KindUnion:
		for i := range t.Vlen() {
			w.follow(t.Member(i).Type, depth+1)
		}
	case rawbtf.KindTypedef, rawbtf.KindVolatile, rawbtf.KindConst, rawbtf.KindRestrict,
		rawbtf.KindTypeTag, rawbtf.KindFunc, rawbtf.KindVar:
		w.follow(t.Ref(), depth+1)
	case rawbtf.KindArray:
		w.follow(t.Array().Type, depth+1)
	case rawbtf.KindFuncProto:
		w.follow(t.Ref(), depth+1)
		for i := range t.Vlen() {
			w.follow(t.Param(i).Type, depth+1)
		}
	}
}

// Verdict compares a relocation's decisions on OLD and NEW.
type Verdict string

// The verdicts.
const (
	// VerdictSame: the same decision on both (possibly unsatisfied or
	// failing on both).
	VerdictSame Verdict = "same"
	// VerdictBroken: resolved on OLD, unsatisfied or failing on NEW.
	VerdictBroken Verdict = "broken"
	// VerdictFixed: unsatisfied or failing on OLD, resolved on NEW.
	VerdictFixed Verdict = "fixed"
	// VerdictChanged: resolved on both, to different values.
	VerdictChanged Verdict = "changed"
)

// Relocation is one CO-RE relocation of an object decided on OLD and NEW.
type Relocation struct {
	// Object is the object's file name.
	Object string `json:"object"`
	// Location locates the relocated instruction and names what the
	// relocation accesses.
	core.Location
	// Old and New are the decisions on OLD and NEW, Verdict compares them.
	Old     core.Decision `json:"old"`
	New     core.Decision `json:"new"`
	Verdict Verdict       `json:"verdict"`
	// Types lists the types the relocation touches on OLD or NEW: the
	// candidates for its root, the types along its access path (and the
	// typedefs and enums naming them).
	Types []Key `json:"types"`
}

// Usage is what a set of objects' CO-RE relocations touch in OLD and NEW
// and how they are decided on each.
type Usage struct {
	// Relocations lists every relocation of every object, in object and
	// libbpf order.
	Relocations []Relocation
	// Scope holds every type some relocation touches.
	Scope *Scope
	// touching maps a type to the indices of the relocations touching it.
	touching map[Key][]int
}

// UsedBy relocates every object against OLD and NEW with libbpf's
// semantics (pkg/core) and records which types each relocation touches.
func UsedBy(objs []*bpfobj.Object, old, new *rawbtf.BTF) *Usage {
	names := map[string]struct{}{}
	for _, o := range objs {
		for i := range o.Relocations {
			rel := &o.Relocations[i]
			if o.BTF.Valid(rel.TypeID) {
				names[string(rawbtf.EssentialName(o.BTF.Type(rel.TypeID).NameBytes()))] = struct{}{}
			}
		}
	}
	ot, nt := core.NewTargetFor(old, names), core.NewTargetFor(new, names)
	u := &Usage{Scope: NewScope(), touching: map[Key][]int{}}
	for _, o := range objs {
		or, nr := core.NewRelocator(o.BTF, ot), core.NewRelocator(o.BTF, nt)
		for i := range o.Relocations {
			rel := &o.Relocations[i]
			ores := or.Relocate(rel.Relo, rel.Spec, rel.SpecErr)
			nres := nr.Relocate(rel.Relo, rel.Spec, rel.SpecErr)
			r := Relocation{
				Object: o.Path, Location: o.Location(i),
				Old: core.NewDecision(rel.Kind, &ores), New: core.NewDecision(rel.Kind, &nres),
			}
			r.Verdict = verdict(r.Old, r.New)
			seen := map[Key]bool{}
			addKey := func(k Key) {
				if !seen[k] {
					seen[k] = true
					r.Types = append(r.Types, k)
				}
			}
			if rel.Kind != core.TypeIDLocal && o.BTF.Valid(rel.TypeID) {
				lt := o.BTF.Type(rel.TypeID)
				if c := classOf(lt.Kind()); c != clsNone && len(lt.NameBytes()) > 0 {
					ess := string(rawbtf.EssentialName(lt.NameBytes()))
					addKey(Key{Kind: c.String(), Name: ess})
				}
			}
			touched(ores.Target, addKey)
			touched(nres.Target, addKey)
			n := len(u.Relocations)
			for _, k := range r.Types {
				u.Scope.Add(k)
				u.touching[k] = append(u.touching[k], n)
			}
			u.Relocations = append(u.Relocations, r)
		}
	}
	return u
}

// touched reports the named types along a target spec: the root, the
// types holding each accessed member and the member types, through
// typedefs, modifiers and arrays (not pointers).
func touched(s *core.Spec, add func(Key)) {
	if s == nil {
		return
	}
	b := s.BTF
	chain := func(id rawbtf.TypeID) {
		for range maxDepth {
			if id == 0 || !b.Valid(id) {
				return
			}
			t := b.Type(id)
			if k, ok := keyOf(t); ok {
				add(k)
			}
			switch k := t.Kind(); {
			case k == rawbtf.KindTypedef || k.IsModifier():
				id = t.Ref()
			case k == rawbtf.KindArray:
				id = t.Array().Type
			default:
				return
			}
		}
	}
	chain(s.Root)
	for _, a := range s.Access {
		if !b.Valid(a.Type) {
			continue
		}
		t := b.Type(a.Type)
		if k, ok := keyOf(t); ok {
			add(k)
		}
		if a.Name != nil && t.Kind().IsComposite() && a.Idx < t.Vlen() {
			chain(t.Member(a.Idx).Type)
		}
	}
}

func verdict(o, n core.Decision) Verdict {
	ook, nok := o.Status == core.StatusOK, n.Status == core.StatusOK
	switch {
	case ook && !nok:
		return VerdictBroken
	case !ook && nok:
		return VerdictFixed
	case ook && nok:
		if o.Target != n.Target || (o.Value == nil) != (n.Value == nil) || (o.Value != nil && *o.Value != *n.Value) {
			return VerdictChanged
		}
	}
	return VerdictSame
}
