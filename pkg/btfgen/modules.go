package btfgen

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// A kernel with modules is searched by libbpf in two steps, vmlinux first
// and the modules only for local types vmlinux has no candidate for. The
// minimized BTF is one BTF that libbpf searches in one step, so it must
// not offer a module type as a candidate where libbpf would have used
// vmlinux's: a module type that vmlinux shadows (vmlinux has a type of a
// compatible kind with the same essential name) can be needed all the
// same, as the type of a member on the access path of a relocation that a
// module's type serves. Kept under its name, it would be a candidate for
// the relocations of a local type of that name, which vmlinux serves.
//
// hideShadowed finds the shadowed module types of the minimized BTF mb
// that such a relocation matches, or fails on, in mb, and marks them to
// be emitted without their name: libbpf then never takes them as a
// candidate. That changes nothing else where libbpf does not compare the
// type's name when it reaches it as a member's type: for structs and
// unions (their names are compared only as candidates and in
// type_matches) and typedefs (skipped wherever they are not candidates;
// they are elided rather than emitted anonymous, which the kernel
// refuses). Enums are hidden too: a field's enum type is compared by name,
// but an anonymous enum matches any, as the same name did. The self-check
// proves the decisions unchanged; where they are not (type_matches
// through a hidden type, an enum field of another name), or a type of
// another kind would be a candidate, the error is ErrUnrepresentable. It
// reports whether it marked a type.
func (p *Plan) hideShadowed(m *marks, target *core.Target, mb *rawbtf.BTF, newToOld []rawbtf.TypeID) bool {
	k := target.BTF
	first := k.FirstID()
	changed := false
	for nid := 1; nid < len(newToOld); nid++ {
		id := newToOld[nid]
		if id < first || m.hidden[id] {
			continue
		}
		if _, ok := m.unhideable[id]; ok {
			continue
		}
		t := k.Type(id)
		name := t.NameBytes()
		if len(name) == 0 {
			continue
		}
		ess := rawbtf.EssentialName(name)
		if _, ok := p.names[string(ess)]; !ok {
			continue // no local type of that name
		}
		why := p.spuriousCandidate(target, t, ess, mb, rawbtf.TypeID(nid))
		if why == "" {
			continue
		}
		switch t.Kind() {
		case rawbtf.KindStruct, rawbtf.KindUnion, rawbtf.KindEnum, rawbtf.KindEnum64, rawbtf.KindTypedef:
			m.hidden[id] = true
			changed = true
		default:
			m.unhideable[id] = why
		}
	}
	return changed
}

// spuriousCandidate returns, when module type t (ID nid in mb) would be a
// candidate in mb that libbpf does not consider on the running kernel,
// the relocation that would match it; "" otherwise.
func (p *Plan) spuriousCandidate(target *core.Target, t rawbtf.Type, ess []byte, mb *rawbtf.BTF, nid rawbtf.TypeID) string {
	for i, o := range p.objects {
		for _, g := range p.groups[i] {
			lt := o.BTF.Type(g.local)
			if !core.KindsCompatible(lt.Kind(), t.Kind()) || !bytes.Equal(rawbtf.EssentialName(lt.NameBytes()), ess) {
				continue
			}
			cands := target.Candidates(lt)
			if len(cands) == 0 || target.FromModules(cands[0]) {
				continue // the modules serve it: t is a real candidate
			}
			for k, spec := range g.specs {
				r := &o.Relocations[g.first[k]]
				if ev := core.Evaluate(spec, mb, nid); ev.Matched || ev.Err != nil {
					return fmt.Sprintf("%s: %s relo #%d %s %s", o.Path, r.Section, r.Index, r.Kind, r.Path())
				}
			}
		}
	}
	return ""
}

// shadowReport describes the shadowed module types hidden or left as
// they are, for ErrUnrepresentable.
func (m *marks) shadowReport() string {
	var parts []string
	ids := make([]rawbtf.TypeID, 0, len(m.hidden)+len(m.unhideable))
	for id := range m.hidden {
		ids = append(ids, id)
	}
	for id := range m.unhideable {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		t := m.b.Type(id)
		desc := fmt.Sprintf("module type %s %s, shadowed by vmlinux", t.Kind().C(), t.Name())
		if why, ok := m.unhideable[id]; ok {
			desc += ", would be a candidate for " + why
		} else {
			desc += ", kept without its name"
		}
		parts = append(parts, desc)
	}
	return strings.Join(parts, "; ")
}
