// SPDX-License-Identifier: GPL-2.0
/*
 * relo_oracle OBJ BTF
 *
 * Opens the BPF object OBJ with libbpf, points CO-RE at the BTF file BTF
 * (bpf_object_open_opts.btf_custom_path), runs bpf_object__load() and prints
 * one normalized line per CO-RE relocation decision libbpf logged, followed by
 * a single "LOAD ok" / "LOAD failed" line. Two runs -- one against a full
 * kernel BTF, one against a BTF minimized for OBJ -- print identical
 * relocation lines exactly when libbpf made the same decisions, so
 *
 *     diff <(relo_oracle prog.o vmlinux.btf | grep -v ^LOAD) \
 *          <(relo_oracle prog.o min.btf     | grep -v ^LOAD)
 *
 * checks a minimized BTF.
 *
 * What is printed (libbpf's debug lines "prog 'P': relo #N: ...", without
 * the "libbpf: " prefix):
 *   - the local spec line "relo #N: <kind> [local id] ..." (local IDs only);
 *   - the outcome lines: "patched insn ...", "substituting insn ... w/ invalid
 *     insn" (poisoning), "no matching targets found", "relocation decision
 *     ambiguity", "field offset ambiguity", "failed to relocate", ...
 * What is dropped: candidate lines ("matching candidate #i [target id] ...",
 * they carry target type IDs and target member indices) and everything that
 * is not a per-relocation line (map creation, verifier logs, ...).
 * What is rewritten: for <target_type_id> relocations the relocated value is
 * a type ID of the target BTF, which differs between a full and a minimized
 * BTF; it is replaced by a description of that type read from BTF itself:
 * "<kind> <name> size=<n>" (e.g. "struct task_struct size=9792"; "void" for
 * ID 0), in "patched"/"unexpected insn" lines and in ambiguity lines.
 *
 * Needs root (CAP_BPF): libbpf creates the maps before relocating. Maps whose
 * shape is decided at run time (max_entries 0, stack-trace maps with
 * value_size 0, ring buffers as inner maps) are given a legal shape so that
 * libbpf gets as far as relocating. If a map still cannot be created and
 * libbpf stopped before deciding any CO-RE relocation, the object is opened
 * again with map creation disabled (libbpf then poisons the map loads, which
 * does not affect CO-RE decisions), and a note goes to stderr; the LOAD line
 * reports the first attempt. Exit status: 0 when the output is complete (even
 * if the load failed), 2 on usage error, 1 if OBJ or BTF could not be opened.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per (program, relo #) kind announced by the local spec line. libbpf numbers
 * relocations per ELF section and names the (sub)program that owns the insn,
 * so the pair is unique within an object. */
struct relo_kind {
	char *prog;
	int idx;
	int is_target_type_id;
};

static struct relo_kind *kinds;
static size_t nkinds, capkinds;
static struct btf *targ_btf;
static int targ_btf_err;
static int core_lines;		/* per-relocation lines printed */

static struct relo_kind *find_kind(const char *prog, int idx)
{
	/* linear from the end: lookups are for the relocation just announced */
	for (size_t i = nkinds; i-- > 0;)
		if (kinds[i].idx == idx && strcmp(kinds[i].prog, prog) == 0)
			return &kinds[i];
	return NULL;
}

static void set_kind(const char *prog, int idx, int is_target_type_id)
{
	struct relo_kind *k = find_kind(prog, idx);

	if (!k) {
		if (nkinds == capkinds) {
			capkinds = capkinds ? 2 * capkinds : 256;
			kinds = realloc(kinds, capkinds * sizeof(*kinds));
			if (!kinds) {
				perror("realloc");
				exit(1);
			}
		}
		k = &kinds[nkinds++];
		k->prog = strdup(prog);
		k->idx = idx;
	}
	k->is_target_type_id = is_target_type_id;
}

static const char *kind_str(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_INT: return "int";
	case BTF_KIND_PTR: return "ptr";
	case BTF_KIND_ARRAY: return "array";
	case BTF_KIND_STRUCT: return "struct";
	case BTF_KIND_UNION: return "union";
	case BTF_KIND_ENUM: return "enum";
	case BTF_KIND_FWD: return btf_kflag(t) ? "fwd union" : "fwd struct";
	case BTF_KIND_TYPEDEF: return "typedef";
	case BTF_KIND_VOLATILE: return "volatile";
	case BTF_KIND_CONST: return "const";
	case BTF_KIND_RESTRICT: return "restrict";
	case BTF_KIND_FUNC: return "func";
	case BTF_KIND_FUNC_PROTO: return "func_proto";
	case BTF_KIND_VAR: return "var";
	case BTF_KIND_DATASEC: return "datasec";
	case BTF_KIND_FLOAT: return "float";
	case BTF_KIND_DECL_TAG: return "decl_tag";
	case BTF_KIND_TYPE_TAG: return "type_tag";
	case BTF_KIND_ENUM64: return "enum64";
	default: return "unknown";
	}
}

/* Describes target type `id` without mentioning its ID. */
static void describe_type(unsigned long long id, char *buf, size_t sz)
{
	const struct btf_type *t;
	const char *name;
	long long size;

	if (id == 0) {
		snprintf(buf, sz, "void");
		return;
	}
	if (!targ_btf) {
		snprintf(buf, sz, "<target BTF unreadable: %d>", targ_btf_err);
		return;
	}
	t = btf__type_by_id(targ_btf, id);
	if (!t) {
		snprintf(buf, sz, "<no type %llu in target BTF>", id);
		return;
	}
	name = btf__name_by_offset(targ_btf, t->name_off);
	size = btf__resolve_size(targ_btf, id);
	if (size < 0)
		snprintf(buf, sz, "%s %s", kind_str(t), name && *name ? name : "(anon)");
	else
		snprintf(buf, sz, "%s %s size=%lld", kind_str(t), name && *name ? name : "(anon)", size);
}

/* Replaces the decimal number that starts at line[pos] by the description
 * of that target type ID. */
static int replace_id_at(char *line, size_t cap, size_t pos)
{
	char desc[512], rest[4096];
	char *end;
	unsigned long long id;

	if (!isdigit((unsigned char)line[pos]))
		return 0;
	id = strtoull(line + pos, &end, 10);
	snprintf(rest, sizeof(rest), "%s", end);
	describe_type(id, desc, sizeof(desc));
	snprintf(line + pos, cap - pos, "%s%s", desc, rest);
	return (int)strlen(desc);
}

static void rewrite_target_ids(char *line, size_t cap)
{
	char *p;

	/* "relocation decision ambiguity: success N != success M" */
	p = strstr(line, "relocation decision ambiguity: ");
	if (p) {
		for (p = strchr(p, ':') + 1; *p; p++) {
			if ((strncmp(p, " success ", 9) == 0 || strncmp(p, " failure ", 9) == 0)) {
				p += 9;
				p += replace_id_at(line, cap, p - line);
				p--;
			}
		}
		return;
	}
	/* "patched insn #K (...) imm[64] X -> Y", "unexpected insn ... exp X -> Y" */
	p = strstr(line, "-> ");
	if (p && (strstr(line, "patched insn") || strstr(line, "unexpected insn")))
		replace_id_at(line, cap, p + 3 - line);
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char buf[4096], prog[512];
	const char *p, *q, *rest;
	int idx;
	size_t len;

	vsnprintf(buf, sizeof(buf), fmt, args);
	if (strncmp(buf, "libbpf: prog '", 14) != 0)
		return 0;
	/* libbpf prints these one line at a time; anything multi-line (verifier
	 * logs) is not a relocation decision */
	len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = 0;
	if (strchr(buf, '\n'))
		return 0;
	p = buf + 14;
	q = strstr(p, "': relo #");
	if (!q || (size_t)(q - p) >= sizeof(prog))
		return 0;
	memcpy(prog, p, q - p);
	prog[q - p] = 0;
	if (sscanf(q + 9, "%d", &idx) != 1)
		return 0;
	rest = strchr(q + 9, ':');
	if (!rest)
		return 0;
	rest += 2;
	/* candidate lines mention target type IDs and member indices */
	if (strstr(rest, "candidate #"))
		return 0;
	/* ELF (map) relocations share the "relo #N" wording: not CO-RE */
	if (strstr(rest, "that loads map"))
		return 0;
	if (rest[0] == '<' && strchr(rest, '>') && strstr(rest, "] ") &&
	    !strstr(rest, "relocation doesn't support")) {
		/* local spec line: "<kind> [local id] ..." */
		set_kind(prog, idx, strncmp(rest, "<target_type_id>", 16) == 0);
	} else {
		struct relo_kind *k = find_kind(prog, idx);

		if (k && k->is_target_type_id)
			rewrite_target_ids(buf, sizeof(buf));
	}
	core_lines++;
	printf("%s\n", buf + 8 /* strlen("libbpf: ") */);
	return 0;
}

/* Maps whose shape the tool decides at run time would stop libbpf before it
 * relocates anything: give them a legal shape. */
static void fix_maps(struct bpf_object *obj, bool create)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		struct bpf_map *in = bpf_map__inner_map(m);
		enum bpf_map_type t = bpf_map__type(m);

		if (!create) {
			bpf_map__set_autocreate(m, false);
			continue;
		}
		if (in && bpf_map__max_entries(in) == 0) {
			if (bpf_map__type(in) == BPF_MAP_TYPE_RINGBUF) {
				int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, 4096, NULL);

				if (fd >= 0)
					bpf_map__set_inner_map_fd(m, fd);
			} else {
				bpf_map__set_max_entries(in, 1);
			}
		}
		if (bpf_map__max_entries(m) == 0 && t != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
			bpf_map__set_max_entries(m, t == BPF_MAP_TYPE_RINGBUF ||
						    t == BPF_MAP_TYPE_USER_RINGBUF ? 4096 : 1);
		/* PERF_MAX_STACK_DEPTH (127) frames of 8 bytes */
		if (t == BPF_MAP_TYPE_STACK_TRACE && bpf_map__value_size(m) == 0)
			bpf_map__set_value_size(m, 127 * 8);
	}
}

static struct bpf_object *open_obj(const char *path, const char *btf)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf);
	struct bpf_object *obj = bpf_object__open_file(path, &opts);

	if (!obj)
		fprintf(stderr, "relo_oracle: cannot open %s: %d\n", path, -errno);
	return obj;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJ BTF\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	targ_btf = btf__parse(argv[2], NULL);
	if (!targ_btf) {
		targ_btf_err = -errno;
		fprintf(stderr, "relo_oracle: cannot parse BTF %s: %d\n", argv[2], targ_btf_err);
		return 1;
	}

	libbpf_set_print(print_fn);
	obj = open_obj(argv[1], argv[2]);
	if (!obj) {
		printf("LOAD failed\n");
		return 1;
	}
	fix_maps(obj, true);
	err = bpf_object__load(obj);
	bpf_object__close(obj);

	if (err && !core_lines) {
		/* libbpf may have given up before relocating (a map could not
		 * be created): relocate again without creating maps. Harmless
		 * for objects without CO-RE relocations (prints nothing). */
		obj = open_obj(argv[1], argv[2]);
		if (obj) {
			fix_maps(obj, false);
			bpf_object__load(obj);
			bpf_object__close(obj);
		}
		if (core_lines)
			fprintf(stderr, "relo_oracle: %s: load failed before any CO-RE relocation; relocated again without creating maps\n",
				argv[1]);
	}
	printf("LOAD %s\n", err ? "failed" : "ok");
	btf__free(targ_btf);
	return 0;
}
