package core

import (
	"errors"
	"fmt"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// Status classifies libbpf's decision for one relocation on one target.
// Its text form (String, MarshalText) is what reports print; the zero
// value is StatusOK. More values may be added; switch with a default.
type Status uint8

// The statuses of a relocation.
const (
	// StatusOK: a candidate matched (or the kind needs none,
	// local_type_id); the instruction is patched.
	StatusOK Status = iota
	// StatusUnsatisfied: no candidate matched. libbpf poisons the
	// instruction of a field or enum value relocation; an existence or
	// type relocation evaluates to 0.
	StatusUnsatisfied
	// StatusFailed: libbpf refuses the whole object on this relocation
	// (ambiguous candidates, invalid access string, anonymous root type,
	// uncomputable value).
	StatusFailed
	// StatusGuarded: unsatisfied, but harmless on this target: an
	// existence check that evaluates to 0, or a poisoned instruction the
	// verifier cannot reach once the existence checks guarding it are
	// patched (pkg/reach).
	StatusGuarded
	// StatusAlternative: a poisoned instruction the verifier reaches in
	// its program, but a variant of that program in the same object
	// (kprobe beside fentry, raw_tp beside tp_btf) loads: the loader must
	// disable the failing one (pkg/reach).
	StatusAlternative
	// StatusWillFail: a poisoned instruction the verifier reaches, in a
	// program no variant covers: the program fails (pkg/reach).
	StatusWillFail
	numStatuses
)

var statusNames = [...]string{
	StatusOK:          "ok",
	StatusUnsatisfied: "unsatisfied",
	StatusFailed:      "failed",
	StatusGuarded:     "guarded",
	StatusAlternative: "alternative",
	StatusWillFail:    "will-fail",
}

// ErrUnknownStatus is wrapped by Status.UnmarshalText's error for a name
// that is no status.
var ErrUnknownStatus = errors.New("unknown relocation status")

// String returns the status's name: "ok", "unsatisfied" or "failed".
func (s Status) String() string {
	if s < numStatuses {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// MarshalText encodes s as its name, so JSON reports carry "ok" and not 0.
func (s Status) MarshalText() ([]byte, error) {
	if s >= numStatuses {
		return nil, fmt.Errorf("%w: %d", ErrUnknownStatus, uint8(s))
	}
	return []byte(statusNames[s]), nil
}

// UnmarshalText decodes a status name; the error wraps ErrUnknownStatus
// for any other text.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrUnknownStatus, b)
}

// StatusOf classifies r.
func StatusOf(r *Result) Status {
	switch {
	case r.Err != nil:
		return StatusFailed
	case r.Unsatisfied():
		return StatusUnsatisfied
	}
	return StatusOK
}

// Location names one CO-RE relocation record of an object and what it
// accesses, as reports show it.
type Location struct {
	// Section and Program hold the relocated instruction; Program is ""
	// for a record of no program.
	Section string `json:"section"`
	Program string `json:"program"`
	// Insn is the instruction index within the program.
	Insn int `json:"insn"`
	// Index is the record's position in its section, libbpf's "relo #N".
	Index int  `json:"relo"`
	Kind  Kind `json:"kind"`
	// Path is the readable access path ("struct task_struct.pid"), or the
	// raw access string when it does not parse.
	Path string `json:"path"`
}

// Decision is a relocation's decision on one target, as reports show it.
type Decision struct {
	Status Status `json:"status"`
	// Value is the relocated value; nil for a poisoned instruction, a
	// failed relocation and target_type_id, whose value is the target's
	// numbering (Target describes the type instead).
	Value *uint64 `json:"value,omitempty"`
	// Target names the matched type of a target_type_id relocation
	// ("struct task_struct").
	Target string `json:"target,omitempty"`
	// Error says why libbpf refuses the object, for StatusFailed.
	Error string `json:"error,omitempty"`
}

// NewDecision describes r, the decision for a relocation of kind k.
func NewDecision(k Kind, r *Result) Decision {
	d := Decision{Status: StatusOf(r)}
	switch {
	case r.Err != nil:
		d.Error = r.Err.Error()
	case r.Poison:
	case k == TypeIDTarget:
		if r.Target != nil {
			d.Target = TypeName(r.Target.BTF, r.Target.Root)
		}
	default:
		v := r.NewVal
		d.Value = &v
	}
	return d
}

// Report is one relocation's decision on one target, the report gen,
// inspect and diff print for it.
type Report struct {
	Location
	Decision
	// Modules names the kernel modules whose types served the relocation,
	// when vmlinux has no candidate for it; set by callers that relocate
	// against modules (NewReport leaves it empty).
	Modules []string `json:"modules,omitempty"`
}

// NewReport describes the decision r for the relocation at loc.
func NewReport(loc Location, r *Result) Report {
	return Report{Location: loc, Decision: NewDecision(loc.Kind, r)}
}

// TypeName names type id of b the way C spells a named type: "struct
// foo", "union bar", "enum baz", or the name alone (typedefs, integers,
// floats). An anonymous type is its keyword and "{...}"; an invalid ID is
// "?".
func TypeName(b *rawbtf.BTF, id rawbtf.TypeID) string {
	if id == 0 {
		return "void"
	}
	if b == nil || !b.Valid(id) {
		return "?"
	}
	t := b.Type(id)
	kw := ""
	switch k := t.Kind(); k {
	case rawbtf.KindStruct, rawbtf.KindUnion:
		kw = k.C()
	case rawbtf.KindEnum, rawbtf.KindEnum64:
		kw = "enum"
	case rawbtf.KindFwd:
		kw = "struct"
		if t.KindFlag() {
			kw = "union"
		}
	default:
		if !k.Known() || len(t.NameBytes()) == 0 {
			kw = k.C()
		}
	}
	name := t.Name()
	switch {
	case kw == "":
		return name
	case name == "":
		return kw + " {...}"
	}
	return kw + " " + name
}
