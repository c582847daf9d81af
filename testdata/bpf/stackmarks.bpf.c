// SPDX-License-Identifier: GPL-2.0
/* stackmarks: a profiler (perf_event program) that emits perf-style merged
 * callchains with PERF_CONTEXT_* marker words between the kernel and user
 * parts. Covers ENUM64 <enumval_value>/<enumval_exists>: enum
 * perf_callchain_context is ENUM64 in BTF from newer pahole (6.x, 4.19 ky10
 * v2101, 4.19 bclinux) but an 8-byte ENUM with 32-bit-truncated values in the
 * 4.18 RHEL and 4.19 ky10 v2207 BTF, so the relocated LDIMM64 value differs. */
#include "ktypes.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

enum perf_callchain_context {
	PERF_CONTEXT_HV = (u64)-32,
	PERF_CONTEXT_KERNEL = (u64)-128,
	PERF_CONTEXT_USER = (u64)-512,
	PERF_CONTEXT_GUEST = (u64)-2048,
	PERF_CONTEXT_MAX = (u64)-4095,
	PERF_CONTEXT_BTFTOOL_NONE = (u64)-7,	/* in no kernel */
};

#define MAX_DEPTH 32

struct chain {
	u32 pid;
	u32 nr;
	u64 ips[2 * MAX_DEPTH + 2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct chain);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} chains SEC(".maps");

SEC("perf_event")
int do_sample(void *ctx)
{
	u32 zero = 0;
	struct chain *c = bpf_map_lookup_elem(&scratch, &zero);
	long n;

	if (!c)
		return 0;
	c->pid = bpf_get_current_pid_tgid() >> 32;
	c->ips[0] = bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_KERNEL);
	n = bpf_get_stack(ctx, &c->ips[1], MAX_DEPTH * sizeof(u64), 0);
	if (n < 0)
		n = 0;
	n /= sizeof(u64);
	if (n > MAX_DEPTH)
		n = MAX_DEPTH;
	c->ips[MAX_DEPTH + 1] = bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_USER);
	if (bpf_core_enum_value_exists(enum perf_callchain_context, PERF_CONTEXT_BTFTOOL_NONE))
		c->ips[MAX_DEPTH + 1] = bpf_core_enum_value(enum perf_callchain_context,
							     PERF_CONTEXT_BTFTOOL_NONE);
	c->nr = n;
	if (bpf_core_enum_value_exists(enum perf_callchain_context, PERF_CONTEXT_GUEST))
		c->nr |= 0x80000000;
	bpf_ringbuf_output(&chains, c, sizeof(*c), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
