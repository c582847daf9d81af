package core_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

func TestStatusText(t *testing.T) {
	for _, tc := range []struct {
		s    core.Status
		name string
	}{{core.StatusOK, "ok"}, {core.StatusUnsatisfied, "unsatisfied"}, {core.StatusFailed, "failed"}} {
		if got := tc.s.String(); got != tc.name {
			t.Errorf("%d: String %q, want %q", tc.s, got, tc.name)
		}
		b, err := json.Marshal(tc.s)
		if err != nil || string(b) != `"`+tc.name+`"` {
			t.Errorf("%s: JSON %s, %v", tc.name, b, err)
		}
		var back core.Status
		if err := json.Unmarshal(b, &back); err != nil || back != tc.s {
			t.Errorf("%s: round trip %v, %v", tc.name, back, err)
		}
	}
	var s core.Status
	if err := s.UnmarshalText([]byte("guarded?")); !errors.Is(err, core.ErrUnknownStatus) {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := core.Status(200).MarshalText(); !errors.Is(err, core.ErrUnknownStatus) {
		t.Errorf("unknown value: %v", err)
	}
}

func TestNewReport(t *testing.T) {
	local, task := localTask()
	b := btftest.New()
	i := b.Int("int", 4, true)
	b.Struct("task_struct", 16, btftest.M{Name: "tgid", Type: i}, btftest.M{Name: "pid", Type: i, BitOff: 64})
	target := b.BTF()
	res := relocate(t, local, target,
		relo(task, "0:0", core.FieldByteOffset), // pid: 8
		relo(task, "0:4", core.FieldByteOffset), // state: poisoned
		relo(task, "0:4", core.FieldExists),     // state: 0
		relo(task, "0", core.TypeIDTarget),      // the target's ID: not a value
		relo(task, "0:9", core.FieldByteOffset), // no such member: failed
	)
	u := func(v uint64) *uint64 { return &v }
	for n, w := range []struct {
		status core.Status
		value  *uint64
		target string
		err    bool
	}{
		{core.StatusOK, u(8), "", false},
		{core.StatusUnsatisfied, nil, "", false},
		{core.StatusUnsatisfied, u(0), "", false},
		{core.StatusOK, nil, "struct task_struct", false},
		{core.StatusFailed, nil, "", true},
	} {
		loc := core.Location{Section: "tp/x", Program: "p", Insn: n, Index: n, Kind: core.FieldByteOffset, Path: "p"}
		if n == 2 {
			loc.Kind = core.FieldExists
		} else if n == 3 {
			loc.Kind = core.TypeIDTarget
		}
		r := core.NewReport(loc, &res[n])
		if r.Location != loc {
			t.Errorf("%d: location %+v, want %+v", n, r.Location, loc)
		}
		if r.Status != w.status || (r.Value == nil) != (w.value == nil) || (w.value != nil && *r.Value != *w.value) ||
			r.Target != w.target || (r.Error != "") != w.err {
			t.Errorf("%d: %+v (value %v), want %+v", n, r.Decision, r.Value, w)
		}
	}
	// The JSON report is flat: location and decision fields side by side.
	b2, _ := json.Marshal(core.NewReport(core.Location{Kind: core.FieldByteOffset}, &res[0]))
	var m map[string]any
	if err := json.Unmarshal(b2, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"section", "program", "insn", "relo", "kind", "path", "status", "value"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON %s lacks %q", b2, k)
		}
	}
	if m["status"] != "ok" {
		t.Errorf("status %v", m["status"])
	}
}

func TestTypeName(t *testing.T) {
	b := btftest.New()
	i := b.Int("int", 4, true)
	s := b.Struct("s", 4, btftest.M{Name: "a", Type: i})
	un := b.Union("u", 4, btftest.M{Name: "a", Type: i})
	anon := b.Struct("", 4, btftest.M{Name: "a", Type: i})
	e := b.Enum("e", 4, false, btftest.E{Name: "A", Value: 1})
	e64 := b.Enum64("e64", 8, false, btftest.E{Name: "B", Value: 1})
	td := b.Typedef("t", s)
	fu := b.Fwd("fu", true)
	bt := b.BTF()
	for _, tc := range []struct {
		id   rawbtf.TypeID
		want string
	}{
		{0, "void"}, {i, "int"}, {s, "struct s"}, {un, "union u"}, {anon, "struct {...}"},
		{e, "enum e"}, {e64, "enum e64"}, {td, "t"}, {fu, "union fu"}, {9999, "?"},
	} {
		if got := core.TypeName(bt, tc.id); got != tc.want {
			t.Errorf("[%d]: %q, want %q", tc.id, got, tc.want)
		}
	}
}
