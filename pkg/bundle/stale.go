package bundle

import (
	"path"
	"strings"
)

// ObjectState is how an object compares with those a bundle was made for.
type ObjectState string

// Object states.
const (
	// ObjectUnchanged means the bundle records the object with the same
	// SHA-256: its BTF serves it.
	ObjectUnchanged ObjectState = "unchanged"
	// ObjectChanged means the bundle records an object of that name with
	// another SHA-256: the object changed since the bundle was built, and
	// the bundle may lack types its relocations need.
	ObjectChanged ObjectState = "changed"
	// ObjectNotInBundle means the bundle records no object of that name
	// (or a format 1 bundle records none at all).
	ObjectNotInBundle ObjectState = "not in bundle"
)

// ObjectCheck is the result of [Index.CheckObject].
type ObjectCheck struct {
	// Name is the object's name as given; Recorded the name of the index
	// object it was compared with, empty when none.
	Name     string      `json:"name"`
	Recorded string      `json:"recorded,omitempty"`
	State    ObjectState `json:"state"`
	// SHA256 is the object's digest, RecordedSHA256 the index's.
	SHA256         string `json:"sha256"`
	RecordedSHA256 string `json:"recorded_sha256,omitempty"`
}

// Stale reports whether the object's BTF may be missing from the bundle:
// it changed, or the bundle was not made for it.
func (c ObjectCheck) Stale() bool { return c.State != ObjectUnchanged }

// CheckObject compares the object named name, with content data, with the
// objects the bundle was made for: an object with the same content is
// unchanged, whatever its name; otherwise the index object of the same
// name (slash-separated, as given to the generator) or, failing that, the
// only one with the same base name is the one it changed from. A loader
// can so check, before loading, that the bundle it embeds was built for the
// objects it embeds.
func (idx *Index) CheckObject(name string, data []byte) ObjectCheck {
	c := ObjectCheck{Name: name, SHA256: sha256Hex(data), State: ObjectNotInBundle}
	slash := path.Clean(strings.ReplaceAll(name, `\`, "/"))
	base := path.Base(slash)
	var same, byName, byBase *Object
	bases := 0
	for i := range idx.Objects {
		o := &idx.Objects[i]
		if o.SHA256 == c.SHA256 && (same == nil || path.Base(o.Name) == base) {
			same = o
		}
		if path.Clean(o.Name) == slash {
			byName = o
		}
		if path.Base(o.Name) == base {
			bases++
			byBase = o
		}
	}
	o, state := same, ObjectUnchanged
	if o == nil {
		o, state = byName, ObjectChanged
		if o == nil && bases == 1 {
			o = byBase
		}
	}
	if o != nil {
		c.Recorded, c.RecordedSHA256, c.State = o.Name, o.SHA256, state
	}
	return c
}
