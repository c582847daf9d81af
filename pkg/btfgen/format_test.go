package btfgen_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// kindLocSec is BTF_KIND_LOCSEC (2026), a kind rawbtf does not know.
const kindLocSec = btftest.KindLocSec

var locSecLayout = btftest.LocationLayouts

// newFormatTask is kernelTask in the format with a layout section, with
// types of an unknown kind before and after task_struct (one with a
// 24-bit vlen) and a struct of 70,000 members.
func newFormatTask(order binary.ByteOrder) *rawbtf.BTF {
	b := btftest.FromBTF(kernelTask(order))
	b.Unknown(kindLocSec, "inline.text", 70000, 0, 12, 1)
	i := b.Int("int", 4, true)
	ms := make([]btftest.M, 70000)
	for j := range ms {
		ms[j] = btftest.M{Name: "m", Type: i, BitOff: uint32(32 * j)}
	}
	b.Struct("wide", 4*70000, ms...)
	b.Unknown(kindLocSec, "inline.init.text", 2, 0, 12, 3)
	return b.WithLayout(locSecLayout).BTF()
}

// A kernel in the new format minimizes to the same BTF as the classic
// one: the unknown kinds and the wide struct are not needed.
func TestMinimizeNewFormat(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		local, task, pidType := localTask(order)
		o := object(t, local,
			relo(task, "0:2", core.FieldByteOffset),
			relo(task, "0:3", core.FieldExists),
			relo(pidType, "0", core.EnumvalValue),
		)
		kernel := newFormatTask(order)
		res, min := minimize(t, kernel, o)
		sameDecisions(t, o, kernel, min)
		classic, _ := minimize(t, kernelTask(order), o)
		if !bytes.Equal(res.BTF, classic.BTF) {
			t.Errorf("%v: minimized new-format kernel differs from the minimized classic one", order)
		}
		if min.HeaderLen() != 24 || min.HasLayout() || len(res.Unknown) != 0 {
			t.Errorf("%v: output header %d, layout %v, unknown %v", order, min.HeaderLen(), min.HasLayout(), res.Unknown)
		}
	}
}

// Kept types that refer to a type of an unknown kind get a placeholder in
// its place, reported in Result.Unknown, and relocations decide the same:
// "void *" is compatible with a pointer to void, not with a pointer to a
// type of an unknown kind (nor to the placeholder).
func TestMinimizeKeepsUnknownKindsOut(t *testing.T) {
	kb := btftest.New()
	ki := kb.Int("int", 4, true)
	mystery := kb.Unknown(kindLocSec, "mystery", 1, 0, 12, 0)
	handle := kb.Typedef("handle_t", kb.Ptr(mystery))
	kb.Struct("holder", 16, btftest.M{Name: "h", Type: handle}, btftest.M{Name: "n", Type: ki, BitOff: 64}, btftest.M{Name: "u", Type: mystery, BitOff: 96})
	kernel := kb.WithLayout(locSecLayout).BTF()

	lb := btftest.New()
	li := lb.Int("int", 4, true)
	lh := lb.Typedef("handle_t", lb.Ptr(0))
	// type_matches ignores target members the local type lacks: holder
	// matches, and all its members are kept.
	holder := lb.Struct("holder", 16, btftest.M{Name: "n", Type: li, BitOff: 64})
	lu := lb.Struct("holder___u", 16, btftest.M{Name: "u", Type: li, BitOff: 96})
	o := object(t, lb.BTF(),
		relo(lh, "0", core.TypeExists),      // void * vs mystery *: no match
		relo(holder, "0", core.TypeMatches), // keeps every member of holder
		relo(holder, "0:0", core.FieldByteOffset),
		relo(lu, "0:0", core.FieldByteOffset), // a member of unknown kind: no match
	)
	res, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
	if len(res.Unknown) != 1 || res.Unknown[0] != mystery {
		t.Fatalf("Unknown = %v, want [%d]", res.Unknown, mystery)
	}
	for id := 1; id < min.NumTypes(); id++ {
		ty := min.Type(rawbtf.TypeID(id))
		if !ty.Kind().Known() {
			t.Errorf("minimized BTF holds [%d] of unknown kind %d", id, ty.Kind())
		}
		if ty.Name() == "holder" {
			if u := min.Type(ty.Member(2).Type); u.Kind() != rawbtf.KindVar || u.Name() != "" {
				t.Errorf("holder.u is %s %q, want the placeholder", u.Kind(), u.Name())
			}
		}
	}
	r := []*core.Result{}
	for j := range res.Objects[0].Decisions.Len() {
		r = append(r, res.Objects[0].Decisions.At(j))
	}
	if !r[0].Unsatisfied() || r[1].Unsatisfied() || r[2].Unsatisfied() || !r[3].Unsatisfied() {
		t.Errorf("unsatisfied: %v %v %v %v, want true false false true", r[0].Unsatisfied(), r[1].Unsatisfied(), r[2].Unsatisfied(), r[3].Unsatisfied())
	}
}
