// Package btfdiff compares two BTFs (two kernels, a kernel and a minimized
// BTF, ...) structurally and reports what changed: types added and removed,
// struct and union sizes, members added, removed, retyped, moved and
// changed as bitfields, enumerators, typedef targets and function
// prototypes. Type IDs never take part: types are compared by kind, name
// and structure, so two encodings of the same types (renumbered,
// deduplicated differently, either byte order) have no differences.
//
// # Identity
//
// Top-level types are identified by kind class and name: "struct
// task_struct", "union", "enum" (ENUM and ENUM64 alike, so that a change of
// width is reported as a change), "typedef", "int", "float", "fwd", "func"
// and "var". DATASEC and DECL_TAG types are not compared; TYPE_TAG
// annotations (__rcu, __user) are transparent, as they are to CO-RE.
//
// A type is described by name wherever it is referenced ("struct a *",
// "long unsigned int", "char [16]"), so a change to struct a is reported
// once, on struct a, and not on every type pointing to it. Anonymous
// structs, unions and enums have no name and are described by their
// structure instead; their changes are reported on the named type that
// contains them, with a path from it.
//
// # Anonymous members
//
// An anonymous member (an unnamed struct or union inside a struct or
// union) is identified by the named members it contains, recursively
// through further anonymous members: an anonymous union of OLD is matched
// with the anonymous member of NEW of the same kind that shares the most
// member names with it. Inserting another anonymous union before it, or
// adding members to it, therefore does not change which union it is
// matched with. Its path is "<anon union:NAME>", NAME being the first
// member name it shares with its counterpart (or its first member name when
// it has none); anonymous members without any named member are matched in
// order and called "<anon union #N>".
//
// Anonymous enums, structs and unions referenced by no other type (such as
// the kernel's "enum { TASK_COMM_LEN = 16 }") are compared as a pool,
// identified by their enumerator or member names in the same way and
// reported as "enum <anon:FIRST_NAME>". A diff restricted by Options.Scope
// or Options.Usage leaves this pool out.
//
// # Duplicate names
//
// Several types of one kind may share a name: pahole-generated kernels
// without deduplication hold hundreds of copies of task_struct, and
// deduplicated kernels still have a few same-named but different types.
// For each name, btftool compares the sets of distinct structural forms
// (kind, size, members by name, type description, offset and bitfield):
// forms present on both sides are not changes, however many copies of them
// either side has. The remaining forms of OLD and NEW are paired by the
// most member names in common and compared in detail; forms left unpaired
// are reported as variants added or removed.
package btfdiff
